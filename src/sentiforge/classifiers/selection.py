"""Choosing a classifier and its training data by cross-validation on the labelled seeds alone.

A candidate is a classifier kind and the sources that join the seeds in its training set
(pseudo-labels of a pool, a synthetic dataset, a model's own labels of the pool). Every
candidate is scored on the same stratified folds of the seeds, and the held-out fold is never
trained on: a source is asked for its texts *given the training folds' seeds* (so thresholds
and seed classifiers are fitted there), and whatever it returns that comes from a held-out
seed (the seed's text, or a variant whose ``parent_id`` is that seed) is dropped.

The score of a candidate is the macro-F1 of its pooled out-of-fold predictions (one per seed),
with a bootstrap interval over the seeds; all candidates are resampled together, so the
difference of two candidates (a source's contribution) gets a paired interval too.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from sentiforge.classifiers.base import encode_targets, fit_samples, targets_of
from sentiforge.classifiers.registry import build_classifier
from sentiforge.errors import DataError
from sentiforge.evaluation import metrics
from sentiforge.labels import LabelScheme
from sentiforge.samples import Sample


class Source(Protocol):
    """Texts that join the training folds' seeds; fitted on those seeds only."""

    @property
    def name(self) -> str: ...

    def extra(self, seeds: Sequence[Sample], fold: int) -> list[Sample]: ...


@dataclass(frozen=True)
class Candidate:
    kind: str
    sources: tuple[str, ...] = ()
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def name(self) -> str:
        return "+".join([self.kind, "seeds", *self.sources])

    @property
    def data(self) -> str:
        return "+".join(["seeds", *self.sources])


@dataclass
class Scored:
    candidate: Candidate
    predicted: np.ndarray  # out-of-fold class index per seed
    fold_f1: list[float]
    seconds: float  # training and prediction time, all folds
    trained_on: list[int]  # training-set size per fold
    pool_proba: dict[int, np.ndarray] = field(default_factory=dict)  # per fold, when a pool is given
    macro_f1: float = float("nan")
    interval: tuple[float, float] = (float("nan"), float("nan"))

    def as_dict(self) -> dict[str, Any]:
        return {
            "candidate": self.candidate.name,
            "kind": self.candidate.kind,
            "data": self.candidate.data,
            "macro_f1": round(self.macro_f1, 4),
            "interval": [round(v, 4) for v in self.interval],
            "fold_macro_f1": [round(v, 4) for v in self.fold_f1],
            "trained_on": self.trained_on,
            "seconds": round(self.seconds, 1),
        }


def stratified_folds(labels: Sequence[str], k: int, seed: int = 0) -> np.ndarray:
    """The fold of each item: each label's items shuffled (seeded) and dealt round the folds."""
    order = list(range(len(labels)))
    random.Random(seed).shuffle(order)
    fold = np.zeros(len(labels), dtype=int)
    dealt: dict[str, int] = {}
    for i in order:
        n = dealt.get(labels[i], 0)
        fold[i], dealt[labels[i]] = n % k, n + 1
    return fold


def without_held_out(extra: Sequence[Sample], held_out: Sequence[Sample]) -> list[Sample]:
    """``extra`` less anything that is, or comes from, a held-out seed."""
    texts = {s.text.strip().casefold() for s in held_out}
    ids = {str(s.id) for s in held_out if s.id is not None}
    return [
        s
        for s in extra
        if s.text.strip().casefold() not in texts
        and (s.provenance.parent_id is None or str(s.provenance.parent_id) not in ids)
    ]


@dataclass
class CrossValidation:
    """The folds of the seeds, and what every candidate scored on them."""

    seeds: list[Sample]
    scheme: LabelScheme
    sources: dict[str, Source]
    k: int = 5
    seed: int = 0
    language: str = "en"
    pool: list[str] = field(default_factory=list)  # texts each fold model labels, for self-training
    scored: dict[str, Scored] = field(default_factory=dict)

    def __post_init__(self) -> None:
        labels = [str(s.label) for s in self.seeds]
        smallest = min(labels.count(x) for x in set(labels)) if labels else 0
        if smallest < 2 or len(set(labels)) < 2:
            raise DataError(f"cross-validation needs at least two labels with two seeds each; got {smallest} at least")
        self.k = max(2, min(self.k, smallest))
        self.fold = stratified_folds(labels, self.k, self.seed)
        self.y = encode_targets(targets_of(self.seeds, self.scheme), self.scheme)

    def split(self, f: int) -> tuple[list[Sample], list[Sample]]:
        train = [s for s, g in zip(self.seeds, self.fold, strict=True) if g != f]
        return train, [s for s, g in zip(self.seeds, self.fold, strict=True) if g == f]

    def training_set(self, candidate: Candidate, f: int) -> list[Sample]:
        train, held = self.split(f)
        extra = [s for name in candidate.sources for s in self.sources[name].extra(train, f)]
        return train + without_held_out(extra, held)

    def run(self, candidate: Candidate, progress: Callable[[], None] | None = None) -> Scored:
        """Train the candidate on each fold's training set, predict the held-out fold."""
        if candidate.name in self.scored:
            return self.scored[candidate.name]
        predicted = np.zeros(len(self.seeds), dtype=int)
        fold_f1, sizes, pool_proba, seconds = [], [], {}, 0.0
        for f in range(self.k):
            data = self.training_set(candidate, f)
            started = time.perf_counter()
            clf = build_classifier(candidate.kind, self.scheme, language=self.language, **dict(candidate.params))
            fit_samples(clf, data, self.scheme)
            held = np.flatnonzero(self.fold == f)
            predicted[held] = np.argmax(clf.predict_proba([self.seeds[i].text for i in held]), axis=1)
            if self.pool:
                pool_proba[f] = clf.predict_proba(self.pool)
            seconds += time.perf_counter() - started
            fold_f1.append(metrics.macro_f1(metrics.confusion(self.y[held], predicted[held], len(self.scheme.labels))))
            sizes.append(len(data))
            if progress:
                progress()
        scored = Scored(candidate, predicted, fold_f1, seconds, sizes, pool_proba)
        self.scored[candidate.name] = scored
        return scored

    def rank(self, bootstrap: int = 1000) -> list[Scored]:
        """Every scored candidate with its pooled macro-F1 and interval, best first."""
        runs = list(self.scored.values())
        fn = metrics.metric_fn("macro_f1", self.scheme)
        values = metrics.bootstrap(self.y, [r.predicted for r in runs], fn, n=bootstrap, seed=self.seed)
        for k, r in enumerate(runs):
            r.macro_f1 = fn(self.y, r.predicted)
            r.interval = metrics.interval(values[:, k])
        return sorted(runs, key=lambda r: (-r.macro_f1, r.seconds))

    def difference(self, better: Candidate, base: Candidate, bootstrap: int = 1000) -> dict[str, Any]:
        """``better`` minus ``base``: pooled macro-F1 difference and its paired bootstrap interval."""
        fn = metrics.metric_fn("macro_f1", self.scheme)
        a, b = self.scored[better.name].predicted, self.scored[base.name].predicted
        values = metrics.bootstrap(self.y, [a, b], fn, n=bootstrap, seed=self.seed)
        gain = fn(self.y, a) - fn(self.y, b)
        low, high = metrics.interval(values[:, 0] - values[:, 1])
        return {"gain": round(gain, 4), "interval": [round(low, 4), round(high, 4)]}


def choose(ranked: Sequence[Scored], tie: float = 0.01) -> Scored:
    """The fastest candidate whose score is within ``tie`` of the best: on a few hundred seeds a
    smaller difference is noise (the intervals are some ten points wide), and a cheaper model
    trains and serves faster."""
    best = max(r.macro_f1 for r in ranked)
    return min((r for r in ranked if r.macro_f1 >= best - tie), key=lambda r: (r.seconds, -r.macro_f1))
