"""Leakage: planted copies of real test sentences among synthetic samples."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from sentiforge.embeddings import get_embedder
from sentiforge.errors import QualityError
from sentiforge.quality.config import DedupConfig, LeakageConfig
from sentiforge.quality.leakage import LeakageCheck
from sentiforge.samples import Sample


def test_planted_leaks_of_test_sentences_are_found_and_counted(
    tweets: list[Sample], edit_words: Callable[[str, random.Random], str]
) -> None:
    rng = random.Random(7)
    long = [s for s in tweets if len(s.text.split()) >= 10]
    test, synthetic = long[:400], long[400:1400]
    exact = [Sample(text=test[i].text.lower() + "!") for i in range(10)]
    near = [Sample(text=edit_words(test[i].text, rng)) for i in range(10, 30)]
    shuffled = [Sample(text=" ".join(reversed(test[i].text.split()))) for i in range(30, 40)]
    check = LeakageCheck(
        test,
        LeakageConfig(),
        DedupConfig(),
        holdout_name="tweets-test",
        embedder=get_embedder("fake"),
        embedding_threshold=0.9,
    )
    results = check.run(synthetic + exact + near + shuffled)
    clean, leaks = results[: len(synthetic)], results[len(synthetic) :]
    # VADER's tweets hold a few real near-copies of each other (the same tweet with other
    # intensifiers or punctuation, made for the VADER study): 5 of them, 1 template lookalike.
    assert sum(r.verdict == "reject" for r in clean) <= 7
    assert sum(r.verdict == "reject" for r in leaks) >= 38
    assert check.found["exact"] == 10
    assert check.found["near"] >= 18
    assert leaks[0].reason == "leak: exact copy of holdout 'tweets-test' sample #0"
    assert leaks[0].detail["holdout"] == "holdout 'tweets-test' sample #0"


def test_an_empty_holdout_is_a_clear_error() -> None:
    with pytest.raises(QualityError, match="holdout set 'test' is empty"):
        LeakageCheck([], LeakageConfig(), DedupConfig(), holdout_name="test")
