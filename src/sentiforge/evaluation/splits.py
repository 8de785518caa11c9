"""Real data is split *first*, and the holdout is checked for leakage before any score.

Synthetic data may only be made from the real train split; a holdout sentence that turns
up in the training side (normalised exact copy, or a near copy by MinHash when the quality
extra is installed) makes every number after it optimistic, so the evaluation drops such
training items, or refuses to score, before it trains anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sentiforge.errors import DataError, MissingExtraError
from sentiforge.io.splits import split_samples, train_holdout
from sentiforge.samples import Sample, text_hash

TRAIN, HOLDOUT = "train", "holdout"
HOLDOUT_NAMES = ("holdout", "test")


def dedupe(samples: Sequence[Sample]) -> list[Sample]:
    """Keep the first sample of each normalised text (duplicates would straddle a split)."""
    seen: set[str] = set()
    out = []
    for s in samples:
        h = text_hash(s.text)
        if h not in seen:
            seen.add(h)
            out.append(s)
    return out


def split_real(samples: Sequence[Sample], *, holdout: float = 0.3, seed: int = 0) -> tuple[list[Sample], list[Sample]]:
    """Stratified, seeded train/holdout split of deduplicated real samples, with ``split`` set."""
    if not 0.0 < holdout < 1.0:
        raise DataError(f"holdout fraction must be between 0 and 1, got {holdout}")
    unique = dedupe(samples)
    if len(unique) < 4:
        raise DataError(f"need at least 4 distinct real samples to split, got {len(unique)}")
    parts = split_samples(unique, train_holdout(holdout), seed=seed)
    return parts[TRAIN], parts[HOLDOUT]


def presplit(samples: Sequence[Sample]) -> tuple[list[Sample], list[Sample]] | None:
    """The train and holdout (or test) parts when the samples already carry splits, else None."""
    train = [s for s in samples if s.split == TRAIN]
    hold = [s for s in samples if s.split in HOLDOUT_NAMES]
    return (train, hold) if train and hold else None


@dataclass
class LeakageReport:
    """Training items that copy a holdout text, by training set name."""

    checked: int
    method: str
    positions: dict[str, list[int]] = field(default_factory=dict)  # indices into each training set
    examples: dict[str, list[str]] = field(default_factory=dict)

    @property
    def leaked(self) -> int:
        return sum(len(v) for v in self.positions.values())

    @property
    def clean(self) -> bool:
        return self.leaked == 0

    def summary(self) -> dict[str, object]:
        return {
            "holdout_checked": self.checked,
            "method": self.method,
            "leaked": {k: len(v) for k, v in self.positions.items()},
            "examples": {k: v[:5] for k, v in self.examples.items()},
            "clean": self.clean,
        }


def _near_checker(holdout: Sequence[Sample]) -> object | None:
    """The quality package's holdout index (exact + MinHash), or None without its extra."""
    try:
        from sentiforge.quality.config import DedupConfig, LeakageConfig
        from sentiforge.quality.leakage import LeakageCheck

        return LeakageCheck(holdout, LeakageConfig(), DedupConfig())
    except (ImportError, MissingExtraError):
        return None


def check_leakage(holdout: Sequence[Sample], *, near: bool = True, **training: Sequence[Sample]) -> LeakageReport:
    """Exact normalised-text overlap, plus MinHash near copies when ``near`` and available."""
    hold = {text_hash(s.text) for s in holdout}
    checker = _near_checker(holdout) if near and holdout else None
    report = LeakageReport(checked=len(hold), method="exact+minhash" if checker else "exact")
    for name, samples in training.items():
        hits = {i for i, s in enumerate(samples) if text_hash(s.text) in hold}
        if checker is not None:
            results = checker.run(list(samples))  # type: ignore[attr-defined]
            hits |= {i for i, r in enumerate(results) if r.verdict == "reject"}
        if hits:
            report.positions[name] = sorted(hits)
            report.examples[name] = [samples[i].text for i in sorted(hits)[:5]]
    return report


def drop_positions(samples: Sequence[Sample], positions: Sequence[int]) -> list[Sample]:
    gone = set(positions)
    return [s for i, s in enumerate(samples) if i not in gone]
