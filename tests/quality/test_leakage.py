"""Leakage: planted copies of real test sentences among synthetic samples."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from sentiforge.embeddings import get_embedder
from sentiforge.errors import QualityError
from sentiforge.quality.config import DedupConfig, LeakageConfig
from sentiforge.quality.leakage import LeakageCheck, check_leakage, drop_positions
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


def test_evaluation_runs_the_same_check_exact_only_when_near_copies_are_not_wanted(tweets: list[Sample]) -> None:
    long = [s for s in tweets if len(s.text.split()) >= 10]
    holdout, train = long[:200], long[200:260]
    exact = Sample(text=holdout[0].text.upper() + "!!")
    near = Sample(text=holdout[1].text + " Really.")
    planted = [*train, exact, near]
    full = check_leakage(holdout, synthetic=planted)
    assert full.method == "exact+minhash" and full.checked == 200
    assert {60, 61} <= set(full.positions["synthetic"])
    only_exact = check_leakage(holdout, near=False, synthetic=planted)
    assert only_exact.method == "exact" and 60 in only_exact.positions["synthetic"]
    assert 61 not in only_exact.positions["synthetic"]
    kept = drop_positions(planted, full.positions["synthetic"])
    assert exact not in kept and near not in kept and len(kept) == len(planted) - full.leaked
    assert check_leakage([], synthetic=planted).clean
