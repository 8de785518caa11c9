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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
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
    variant: str = ""  # what sets it apart from its kind's default, shown in the name: "embedding(multilingual)"

    @property
    def arm(self) -> str:
        """The classifier this candidate trains, whatever its data: its kind and variant."""
        return f"{self.kind}({self.variant})" if self.variant else self.kind

    @property
    def name(self) -> str:
        return "+".join([self.arm, "seeds", *self.sources])

    def on(self, sources: tuple[str, ...]) -> Candidate:
        """The same classifier on the seeds and other sources."""
        return replace(self, sources=tuple(sources))

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
    proba: np.ndarray | None = None  # out-of-fold probabilities per seed (what an ensemble averages)
    macro_f1: float = float("nan")
    interval: tuple[float, float] = (float("nan"), float("nan"))
    tied: bool = False  # the seeds cannot tell it from the best (paired interval of the difference reaches 0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "candidate": self.candidate.name,
            "kind": self.candidate.kind,
            "arm": self.candidate.arm,
            "data": self.candidate.data,
            "sources": list(self.candidate.sources),
            "macro_f1": round(self.macro_f1, 4),
            "interval": [round(v, 4) for v in self.interval],
            "fold_macro_f1": [round(v, 4) for v in self.fold_f1],
            "trained_on": self.trained_on,
            "seconds": round(self.seconds, 1),
            "tied_with_best": self.tied,
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
    base_model_dir: Path | None = None  # where a reasoner's packaged base model is joined (the settings')
    scored: dict[str, Scored] = field(default_factory=dict)

    def __post_init__(self) -> None:
        labels = [str(s.label) for s in self.seeds]
        smallest = min(labels.count(x) for x in set(labels)) if labels else 0
        if smallest < 2 or len(set(labels)) < 2:
            counts = {x: labels.count(x) for x in sorted(set(labels))}
            raise DataError(f"cross-validation needs at least two labels with two seeds each; the seeds hold {counts}")
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

    def run(
        self,
        candidate: Candidate,
        progress: Callable[[], None] | None = None,
        keep_going: Callable[[float], bool] | None = None,
    ) -> Scored | None:
        """Train the candidate on each fold's training set, predict the held-out fold. After each
        fold, ``keep_going`` is asked with the seconds the remaining folds should take (the mean
        fold so far times the folds left); when it says no, the candidate stops and None is
        returned (nothing is recorded for it)."""
        if candidate.name in self.scored:
            return self.scored[candidate.name]
        proba = np.zeros((len(self.seeds), len(self.scheme.labels)))
        fold_f1, sizes, pool_proba, seconds = [], [], {}, 0.0
        for f in range(self.k):
            data = self.training_set(candidate, f)
            started = time.perf_counter()
            clf = self.new_model(candidate)
            fit_samples(clf, data, self.scheme)
            held = np.flatnonzero(self.fold == f)
            proba[held] = clf.predict_proba([self.seeds[i].text for i in held])
            if self.pool:
                pool_proba[f] = clf.predict_proba(self.pool)
            seconds += time.perf_counter() - started
            predicted = np.argmax(proba[held], axis=1)
            fold_f1.append(metrics.macro_f1(metrics.confusion(self.y[held], predicted, len(self.scheme.labels))))
            sizes.append(len(data))
            if progress:
                progress()
            left = self.k - f - 1
            if left and keep_going is not None and not keep_going(seconds / (f + 1) * left):
                return None
        scored = Scored(candidate, np.argmax(proba, axis=1), fold_f1, seconds, sizes, pool_proba, proba)
        self.scored[candidate.name] = scored
        return scored

    def new_model(self, candidate: Candidate) -> Any:
        """An untrained classifier of the candidate's kind and options, for the seeds' language."""
        return build_classifier(
            candidate.kind,
            self.scheme,
            language=self.language,
            base_model_dir=self.base_model_dir,
            **dict(candidate.params),
        )

    def rank(self, bootstrap: int = 1000) -> list[Scored]:
        """Every scored candidate with its pooled macro-F1 and interval, best first; ``tied`` marks
        those whose paired difference from the best has an interval reaching zero."""
        runs = list(self.scored.values())
        fn = metrics.metric_fn("macro_f1", self.scheme)
        values = metrics.bootstrap(self.y, [r.predicted for r in runs], fn, n=bootstrap, seed=self.seed)
        for k, r in enumerate(runs):
            r.macro_f1 = fn(self.y, r.predicted)
            r.interval = metrics.interval(values[:, k])
        for r, tied in zip(runs, tied_with_best(values, [r.macro_f1 for r in runs]), strict=True):
            r.tied = tied
        return sorted(runs, key=lambda r: (-r.macro_f1, r.seconds))

    def difference(self, better: Candidate, base: Candidate, bootstrap: int = 1000) -> dict[str, Any]:
        """``better`` minus ``base``: pooled macro-F1 difference and its paired bootstrap interval."""
        fn = metrics.metric_fn("macro_f1", self.scheme)
        a, b = self.scored[better.name].predicted, self.scored[base.name].predicted
        values = metrics.bootstrap(self.y, [a, b], fn, n=bootstrap, seed=self.seed)
        gain = fn(self.y, a) - fn(self.y, b)
        low, high = metrics.interval(values[:, 0] - values[:, 1])
        return {"gain": round(gain, 4), "interval": [round(low, 4), round(high, 4)]}


def tied_with_best(values: np.ndarray, scores: Sequence[float]) -> list[bool]:
    """Per candidate: does the paired bootstrap interval of (best - candidate) reach zero?
    ``values`` holds the candidates' scores on the same resamples of the seeds (n, candidates)."""
    if not len(scores):
        return []
    best = int(np.argmax(scores))
    return [metrics.interval(values[:, best] - values[:, k])[0] <= 0 for k in range(len(scores))]


def sources_earned_their_place(run: Scored, scored: Mapping[str, Scored]) -> bool:
    """Every source in the candidate scored at least as well with it as without it, where that
    pair was scored (``scored`` by name, ranked): a source that hurts is dropped, and a second
    round is kept only when the cross-validation says so."""
    for source in run.candidate.sources:
        rest = tuple(s for s in run.candidate.sources if s != source)
        base = scored.get(run.candidate.on(rest).name)
        if base is not None and run.macro_f1 < base.macro_f1:
            return False
    return True


def choose(ranked: Sequence[Scored], eligible: Callable[[Scored], bool] = lambda r: True) -> Scored:
    """Among the eligible candidates the seeds cannot tell from the best (``tied``), the one that
    trained on the most texts, then the better score, then the faster.

    Why: on a few hundred seeds the top candidates sit within a point or two and their paired
    intervals are several points wide, so their order is noise and picking the best score picks
    the luckiest. What the seeds can justify is the tie; among tied candidates, the one whose
    training set holds more in-domain texts (seeds plus pool labels that earned their place) is
    preferred, since the seeds cannot show what the larger set adds beyond its first hundred
    texts while a held-out fold of 40 seeds is too small to show the gain."""
    tied = [r for r in ranked if r.tied and eligible(r)] or [r for r in ranked if eligible(r)] or list(ranked)
    return max(tied, key=lambda r: (float(np.mean(r.trained_on)), r.macro_f1, -r.seconds))
