"""Real data for evaluation tests: the UCI Yelp sentences, split once per module."""

from __future__ import annotations

import pytest

from sentiforge.io.datasets import load_uci
from sentiforge.io.splits import split_real
from sentiforge.samples import Sample


@pytest.fixture(scope="module")
def yelp_split() -> tuple[list[Sample], list[Sample]]:
    return split_real(load_uci("yelp"), holdout=0.3, seed=0)


@pytest.fixture(scope="module")
def amazon() -> list[Sample]:
    """Real Amazon sentences standing in for 'synthetic' data from a nearby domain."""
    return load_uci("amazon")
