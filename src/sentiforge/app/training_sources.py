"""What may join the labelled seeds in a built model's training set, as cross-validation sources.

Each source answers :meth:`extra` for the seeds of the training folds (``fold`` >= 0) or for all
the seeds (``fold`` = -1, the final model), and fits whatever it fits on those seeds alone:

- :class:`PseudoLabelled`: the pool pseudo-labelled by :func:`pseudo_label` (thresholds and seed
  classifier fitted on the given seeds), its most confident texts at a size relative to the seeds;
- :class:`Synthetic`: a generated or augmented dataset, capped relative to the seeds;
- :class:`SelfLabelled`: a trained candidate's own most confident labels of the pool (the
  teacher of each fold for the fold, the final teacher for the final model): self-training.

Sizes are kept in the seeds' label proportions, most confident first, as pseudo-labels are.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from sentiforge.labels import LabelScheme
from sentiforge.samples import Provenance, Sample


def most_confident(
    samples: Sequence[Sample], confidence: Sequence[float], size: int | None, seeds: Sequence[Sample]
) -> list[Sample]:
    """At most ``size`` samples (all when None), each label's most confident first, in the seeds'
    label proportions."""
    if size is None:
        return list(samples)
    shares = Counter(str(s.label) for s in seeds)
    by_label: dict[str, list[int]] = {}
    for i, s in enumerate(samples):
        by_label.setdefault(str(s.label), []).append(i)
    out: list[Sample] = []
    for label, members in by_label.items():
        quota = round(size * shares.get(label, 0) / max(1, len(seeds)))
        members.sort(key=lambda i: -confidence[i])
        out.extend(samples[i] for i in members[:quota])
    return out


@dataclass
class PseudoLabeller:
    """The pool's pseudo-labels given some seeds, computed once per fold and shared by sizes."""

    pool: list[Sample]
    scheme: LabelScheme
    target_precision: float = 0.9
    lexicon: bool = False
    seed: int = 0
    summaries: dict[int, dict[str, object]] = field(default_factory=dict)
    _kept: dict[int, list[Sample]] = field(default_factory=dict)

    def kept(self, seeds: Sequence[Sample], fold: int) -> list[Sample]:
        from sentiforge.quality.pseudo_labels import pseudo_label

        if fold not in self._kept:
            # accept_lower: the build measures what the labels are worth by cross-validation itself
            result = pseudo_label(
                self.pool,
                seeds,
                self.scheme,
                target_precision=self.target_precision,
                lexicon=self.lexicon,
                seed=self.seed,
                accept_lower=True,
            )
            self._kept[fold] = result.samples
            self.summaries[fold] = result.summary()
        return self._kept[fold]


@dataclass
class PseudoLabelled:
    labeller: PseudoLabeller
    factor: float | None  # kept texts per seed; None: all that pass the thresholds

    @property
    def name(self) -> str:
        return "pseudo-all" if self.factor is None else f"pseudo{self.factor:g}x"

    def extra(self, seeds: Sequence[Sample], fold: int) -> list[Sample]:
        kept = self.labeller.kept(seeds, fold)
        size = None if self.factor is None else round(self.factor * len(seeds))
        return most_confident(kept, [float(s.provenance.params["confidence"]) for s in kept], size, seeds)


@dataclass
class Synthetic:
    label: str  # the dataset's name
    samples: list[Sample]
    cap: float = 1.0  # at most this many synthetic samples per seed
    seed: int = 0

    @property
    def name(self) -> str:
        return f"synthetic:{self.label}"

    def extra(self, seeds: Sequence[Sample], fold: int) -> list[Sample]:
        limit = round(self.cap * len(seeds))
        if len(self.samples) <= limit:
            return list(self.samples)
        return random.Random(self.seed).sample(self.samples, limit)


@dataclass
class SelfLabelled:
    """A teacher's labels of the pool: ``proba_of(fold)`` is the teacher's probabilities on the
    pool when trained on that fold's training set (-1: on everything)."""

    teacher: str
    pool: list[Sample]
    scheme: LabelScheme
    proba_of: Callable[[int], np.ndarray]
    factor: float = 1.0

    @property
    def name(self) -> str:
        return f"self:{self.teacher}{self.factor:g}x"

    def extra(self, seeds: Sequence[Sample], fold: int) -> list[Sample]:
        proba = self.proba_of(fold)
        labels = [self.scheme.labels[int(k)] for k in proba.argmax(axis=1)]
        labelled = [
            s.model_copy(
                update={
                    "id": None,
                    "label": label,
                    "provenance": Provenance(strategy="self_training", model=self.teacher),
                }
            )
            for s, label in zip(self.pool, labels, strict=True)
        ]
        return most_confident(labelled, proba.max(axis=1).tolist(), round(self.factor * len(seeds)), seeds)
