"""Cross-validated selection on the seeds: the held-out fold is never trained on, sources are
fitted on the training folds only, and the scores rank clean data above noise. The fake
classifier (naive Bayes) keeps it fast."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence

import numpy as np

from sentiforge.classifiers.selection import (
    Candidate,
    CrossValidation,
    Scored,
    choose,
    stratified_folds,
    tied_with_best,
    without_held_out,
)
from sentiforge.evaluation import metrics
from sentiforge.io.datasets import load_builtin
from sentiforge.labels import get_scheme
from sentiforge.samples import Provenance, Sample

BINARY = get_scheme("binary")


def seeds_and_rest(n: int = 120) -> tuple[list[Sample], list[Sample]]:
    data = load_builtin("uci:yelp") + load_builtin("uci:amazon")
    random.Random(1).shuffle(data)
    return [s.model_copy(update={"id": i}) for i, s in enumerate(data[:n])], data[n : n + 600]


class Recording:
    """A source that remembers the seeds it was fitted on, and tries to leak: it returns the
    seeds it is given, every held-out seed it can see (it should see none) and variants of all."""

    name = "recording"

    def __init__(self, everything: list[Sample]) -> None:
        self.everything = everything
        self.given: dict[int, set[str]] = {}

    def extra(self, seeds: Sequence[Sample], fold: int) -> list[Sample]:
        self.given[fold] = {s.text for s in seeds}
        variants = [
            Sample(text=s.text + " indeed", label=s.label, provenance=Provenance(parent_id=s.id))
            for s in self.everything
        ]
        return [*self.everything, *variants]


def test_folds_are_stratified() -> None:
    labels = ["a"] * 30 + ["b"] * 10
    fold = stratified_folds(labels, 5, seed=3)
    for f in range(5):
        assert Counter(label for label, g in zip(labels, fold, strict=True) if g == f) == {"a": 6, "b": 2}


def test_the_held_out_fold_is_never_trained_on_nor_shown_to_a_source() -> None:
    seeds, _ = seeds_and_rest()
    source = Recording(seeds)
    cv = CrossValidation(seeds, BINARY, {"recording": source}, k=4)
    for f in range(cv.k):
        held = {s.text for s in cv.split(f)[1]}
        trained = cv.training_set(Candidate("fake", ("recording",)), f)
        assert held and not held & {s.text for s in trained}
        assert not any(s.text.removesuffix(" indeed") in held for s in trained)  # nor their variants
        assert not held & source.given[f]
    assert without_held_out([Sample(text=" Great FOOD ", label="positive")], [seeds[0]]) != []


def test_clean_data_ranks_above_noise_and_the_difference_is_paired() -> None:
    seeds, rest = seeds_and_rest()
    noisy = [s.model_copy(update={"label": random.Random(i).choice(BINARY.labels)}) for i, s in enumerate(rest)]

    class Fixed:
        def __init__(self, name: str, samples: list[Sample]) -> None:
            self.name, self.samples = name, samples

        def extra(self, seeds: Sequence[Sample], fold: int) -> list[Sample]:
            return self.samples

    sources = {"clean": Fixed("clean", rest), "noise": Fixed("noise", noisy)}
    cv = CrossValidation(seeds, BINARY, sources, k=5, pool=[s.text for s in rest[:50]])
    for c in (Candidate("fake"), Candidate("fake", ("clean",)), Candidate("fake", ("noise",))):
        cv.run(c)
    ranked = cv.rank(bootstrap=200)
    assert ranked[0].candidate.name == "fake+seeds+clean"
    assert ranked[-1].candidate.name == "fake+seeds+noise"
    low, high = ranked[0].interval
    assert low <= ranked[0].macro_f1 <= high and ranked[0].macro_f1 > 0.7
    gain = cv.difference(Candidate("fake", ("clean",)), Candidate("fake"), bootstrap=200)
    assert gain["gain"] > 0 and gain["interval"][0] > 0  # the pool of 600 clean labels helps, surely
    assert set(ranked[0].pool_proba) == set(range(5)) and ranked[0].pool_proba[0].shape == (50, 2)
    assert np.all((ranked[0].predicted >= 0) & (ranked[0].predicted < 2))


def test_among_candidates_tied_with_the_best_the_one_trained_on_most_texts_is_chosen() -> None:
    def scored(kind: str, f1: float, size: int, tied: bool) -> Scored:
        return Scored(Candidate(kind), np.zeros(1, dtype=int), [], 1.0, [size], macro_f1=f1, tied=tied)

    best, larger, untied = (
        scored("contrastive", 0.618, 160, True),
        scored("embedding", 0.61, 1500, True),
        scored("tfidf", 0.5, 3000, False),
    )
    assert choose([best, larger, untied]) is larger  # the larger set, though a point below: a tie
    assert choose([best, larger, untied], eligible=lambda r: r is not larger) is best
    assert choose([scored("a", 0.6, 100, False)]).candidate.kind == "a"  # nothing tied: the eligible best


def test_tied_with_best_uses_the_paired_interval_of_the_difference() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    best = np.where(rng.random(200) < 0.2, 1 - y, y)
    close = np.where(rng.random(200) < 0.22, 1 - y, y)  # other errors, about as many: a tie on 200 seeds
    far = np.where(rng.random(200) < 0.45, 1 - y, y)
    fn = metrics.metric_fn("macro_f1", BINARY)
    values = metrics.bootstrap(y, [best, close, far], fn, n=300)
    assert tied_with_best(values, [fn(y, p) for p in (best, close, far)]) == [True, True, False]


def test_a_candidate_that_would_overrun_stops_after_its_first_fold() -> None:
    seeds, _ = seeds_and_rest()
    cv = CrossValidation(seeds, BINARY, {}, k=4)
    asked: list[float] = []

    def keep_going(seconds_left: float) -> bool:
        asked.append(seconds_left)
        return False

    ticks: list[int] = []
    assert cv.run(Candidate("fake"), progress=lambda: ticks.append(1), keep_going=keep_going) is None
    assert len(asked) == 1 and asked[0] >= 0 and ticks == [1]  # stopped after one fold of four
    assert "fake+seeds" not in cv.scored  # nothing recorded: it can run again
    assert cv.run(Candidate("fake"), keep_going=lambda s: True) is not None and len(cv.scored) == 1


def test_seeds_of_one_label_are_refused_with_their_counts() -> None:
    import pytest

    from sentiforge.errors import DataError

    seeds = [Sample(text=f"good {i}", label="positive") for i in range(10)]
    with pytest.raises(DataError, match=r"the seeds hold \{'positive': 10\}"):
        CrossValidation(seeds, get_scheme("binary"), {})
