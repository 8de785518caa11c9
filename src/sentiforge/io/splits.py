"""Stratified, seeded splits (train/validation/test, or train/holdout) by ``Sample.target()``:
the one place data is split, for import, export and evaluation.

Each label's items are shuffled with a seed derived from the run seed and the label, then cut
by the fractions; the units that rounding leaves over go to the split furthest behind its
overall share, so small labels do not all round into the same split. Same items, fractions
and seed: same assignment, whatever order the items came in.

Evaluation splits real data *first* (:func:`split_real`): synthetic data may only be made
from the train part, and the holdout is checked for leakage (``quality.leakage``) before
any score.
"""

from __future__ import annotations

import math
import random
import re
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import TypeVar

from sentiforge.errors import ConfigError, DataError
from sentiforge.samples import Sample, text_hash

K = TypeVar("K", bound=Hashable)

DEFAULT_SPLITS: dict[str, float] = {"train": 0.8, "validation": 0.1, "test": 0.1}
TRAIN, HOLDOUT = "train", "holdout"
HOLDOUT_NAMES = ("holdout", "test")
POSITIONAL_NAMES = {2: ("train", "test"), 3: ("train", "validation", "test")}
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,15}$")


def parse_splits(spec: str) -> dict[str, float]:
    """``"0.8,0.1,0.1"`` (train/validation/test), ``"0.8,0.2"`` (train/test), or named parts
    like ``"train=0.7,holdout=0.3"``; ``"none"`` puts everything in train."""
    spec = spec.strip()
    if spec.lower() in {"none", "no", "1", "1.0"}:
        return {"train": 1.0}
    parts = [p.strip() for p in spec.split(",") if p.strip()]
    try:
        if all("=" in p for p in parts):
            named = {k.strip().lower(): float(v) for k, v in (p.split("=", 1) for p in parts)}
        elif len(parts) in POSITIONAL_NAMES and not any("=" in p for p in parts):
            named = dict(zip(POSITIONAL_NAMES[len(parts)], map(float, parts), strict=True))
        else:
            raise ValueError
    except ValueError:
        raise ConfigError(
            f"cannot read splits {spec!r}; use fractions like 0.8,0.1,0.1 (train/validation/test), "
            "0.8,0.2 (train/test) or names like train=0.7,holdout=0.3"
        ) from None
    return check_fractions(named)


def check_fractions(fractions: Mapping[str, float]) -> dict[str, float]:
    """Positive fractions summing to 1 under valid split names (ConfigError otherwise)."""
    if not fractions:
        raise ConfigError("no splits given")
    for name, share in fractions.items():
        if not _NAME.match(name):
            raise ConfigError(f"split name {name!r} must be 1-16 lowercase letters, digits, _ or -")
        if not 0 < share <= 1:
            raise ConfigError(f"split '{name}' has fraction {share}; fractions must be in (0, 1]")
    total = sum(fractions.values())
    if not math.isclose(total, 1.0, abs_tol=1e-6):
        raise ConfigError(f"split fractions {dict(fractions)} sum to {total:g}, not 1")
    return dict(fractions)


def train_holdout(holdout: float) -> dict[str, float]:
    """Fractions for a train/holdout cut (the holdout is never used to make synthetic data)."""
    return check_fractions({"train": 1.0 - holdout, "holdout": holdout})


def assign(items: Iterable[tuple[K, str]], fractions: Mapping[str, float], *, seed: int = 0) -> dict[K, str]:
    """Map each key to a split, stratified by its target label. Keys must be sortable."""
    fractions = check_fractions(fractions)
    groups: dict[str, list[K]] = defaultdict(list)
    for key, target in items:
        groups[target].append(key)
    names = list(fractions)
    assigned = dict.fromkeys(names, 0)
    seen = 0
    out: dict[K, str] = {}
    for target in sorted(groups):
        keys = sorted(groups[target])  # type: ignore[type-var]
        random.Random(f"{seed}|{target}").shuffle(keys)
        seen += len(keys)
        counts = _allocate(len(keys), fractions, seen, assigned)
        start = 0
        for name in names:
            for key in keys[start : start + counts[name]]:
                out[key] = name
            start += counts[name]
            assigned[name] += counts[name]
    return out


def _allocate(n: int, fractions: Mapping[str, float], seen: int, assigned: Mapping[str, int]) -> dict[str, int]:
    """Split n items by the fractions; leftover units go to the splits furthest behind their share."""
    counts = {name: math.floor(n * share) for name, share in fractions.items()}
    left = n - sum(counts.values())
    behind = sorted(
        fractions,
        key=lambda name: -(seen * fractions[name] - assigned[name] - counts[name]),
    )
    for name in behind[:left]:
        counts[name] += 1
    return counts


def split_samples(
    samples: Sequence[Sample], fractions: Mapping[str, float], *, seed: int = 0
) -> dict[str, list[Sample]]:
    """In-memory convenience: the samples grouped by split, each split in the input order."""
    plan = assign(((i, s.target()) for i, s in enumerate(samples)), fractions, seed=seed)
    out: dict[str, list[Sample]] = {name: [] for name in fractions}
    for i, sample in enumerate(samples):
        out[plan[i]].append(sample.model_copy(update={"split": plan[i]}))
    return out


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
