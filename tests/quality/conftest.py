"""Real data with planted problems, for the quality tests."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from sentiforge.io.datasets import load_uci, load_vader
from sentiforge.quality.config import QualityConfig
from sentiforge.samples import Sample, normalize_text


def distinct(samples: list[Sample]) -> list[Sample]:
    """Real sentences with no exact duplicate among them (after normalisation)."""
    seen: set[str] = set()
    out = []
    for s in samples:
        key = normalize_text(s.text)
        if key and key not in seen and len(s.text.split()) >= 4:
            seen.add(key)
            out.append(s)
    return out


@pytest.fixture(scope="session")
def yelp() -> list[Sample]:
    return distinct(load_uci("yelp"))


@pytest.fixture(scope="session")
def tweets() -> list[Sample]:
    return distinct(load_vader("tweets", "three_class"))


@pytest.fixture
def fast_config() -> QualityConfig:
    """Defaults, with the fake embedder and a two-language identifier (fast to build)."""
    cfg = QualityConfig()
    cfg.dedup.embedder = "fake"
    cfg.filters.languages = ["en", "fr"]
    return cfg


def _edit_words(text: str, rng: random.Random) -> str:
    """A lexical near-copy: one word dropped and one word swapped for another."""
    words = text.split()
    del words[rng.randrange(len(words))]
    words[rng.randrange(len(words))] = rng.choice(["really", "quite", "so", "very"])
    return " ".join(words)


@pytest.fixture
def edit_words() -> Callable[[str, random.Random], str]:
    return _edit_words
