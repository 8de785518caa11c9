"""The final training set: real seeds plus synthetic samples, with the synthetic share capped.

Why a cap: augmented data helps while it stays anchored to real data; past a point the
classifier learns the generator's style instead. The default keeps synthetic samples at
most 60% of the mixed set (``max_synthetic_share``).

The selection is deterministic and label-stratified: each label gets a quota in proportion
to the real labels (optionally, spare quota flows to labels that have more), and within a label samples
are taken round-robin over their seeds (every seed's first variant before any seed's
second), ties broken by a seeded hash. Synthetic samples made from a real sample outside the
training split are left out (a leak from the held-out data) and counted in the report.
The report goes into the mixed dataset's metadata, which every export carries.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sentiforge.errors import ConfigError, DataError
from sentiforge.quality.leakage import without_holdout_parents
from sentiforge.samples import Sample
from sentiforge.store import Store

DEFAULT_MAX_SYNTHETIC_SHARE = 0.6


@dataclass
class MixReport:
    real: int
    synthetic: int
    available_synthetic: int
    synthetic_share: float
    max_synthetic_share: float
    seed: int
    real_dataset: str = ""
    synthetic_datasets: list[str] = field(default_factory=list)
    per_label: dict[str, dict[str, int]] = field(default_factory=dict)
    per_strategy: dict[str, int] = field(default_factory=dict)
    excluded_leaky: int = 0
    dataset_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def synthetic_cap(n_real: int, max_share: float) -> int:
    """Most synthetic samples beside ``n_real`` real ones so that their share is <= max_share."""
    if not 0.0 <= max_share <= 1.0:
        raise ConfigError(f"max synthetic share must be between 0 and 1, got {max_share}")
    if max_share >= 1.0:
        return math.inf  # type: ignore[return-value]
    return math.floor(max_share / (1.0 - max_share) * n_real + 1e-9)


def _key(seed: int, sample: Sample) -> str:
    return hashlib.blake2b(f"{seed}|{sample.id}|{sample.text}".encode(), digest_size=8).hexdigest()


def _round_robin(samples: list[Sample], seed: int) -> list[Sample]:
    """Order: each parent's samples by hash, then rank 0 of every parent, rank 1, ..."""
    by_parent: dict[Any, list[Sample]] = defaultdict(list)
    for s in samples:
        by_parent[s.provenance.parent_id if s.provenance.parent_id is not None else f"self:{s.id}"].append(s)
    ranked: list[tuple[int, str, Sample]] = []
    for group in by_parent.values():
        for rank, s in enumerate(sorted(group, key=lambda x: _key(seed, x))):
            ranked.append((rank, _key(seed, s), s))
    return [s for _, _, s in sorted(ranked, key=lambda t: (t[0], t[1]))]


def quotas(real_counts: Counter[str], available: Counter[str], total: int, *, fill: bool = False) -> dict[str, int]:
    """Per-label quotas proportional to the real labels, at most ``total`` in all.

    By default the synthetic part keeps the real label distribution exactly, so the scarcest
    label (relative to its real share) limits the others: a generator that is better at one
    label must not tilt the classifier's prior. ``fill`` hands the spare quota to the labels
    that have more, up to ``total`` (more data, shifted prior).
    """
    labels = sorted(set(real_counts) | set(available))
    n_real = sum(real_counts.values()) or 1
    total = min(total, sum(available.values()))
    if not fill:
        scale = min([total / n_real] + [available[lb] / real_counts[lb] for lb in labels if real_counts[lb]])
        return {label: min(available[label], math.floor(scale * real_counts[label] + 1e-9)) for label in labels}
    quota = {label: min(available[label], math.floor(total * real_counts[label] / n_real)) for label in labels}
    spare = total - sum(quota.values())
    while spare > 0:
        open_labels = [lb for lb in labels if quota[lb] < available[lb]]
        if not open_labels:
            break
        for label in sorted(open_labels, key=lambda lb: (quota[lb] / max(real_counts[lb], 1), lb)):
            if spare == 0:
                break
            quota[label] += 1
            spare -= 1
    return quota


def select_synthetic(
    real: Sequence[Sample], synthetic: Sequence[Sample], max_share: float, seed: int = 0, *, fill: bool = False
) -> list[Sample]:
    """The synthetic samples to keep beside ``real`` (pure function: same input, same output)."""
    cap = synthetic_cap(len(real), max_share)
    by_label: dict[str, list[Sample]] = defaultdict(list)
    for s in synthetic:
        by_label[s.target()].append(s)
    available = Counter({label: len(group) for label, group in by_label.items()})
    quota = quotas(Counter(s.target() for s in real), available, min(cap, sum(available.values())), fill=fill)
    chosen: list[Sample] = []
    for label in sorted(by_label):
        chosen += _round_robin(by_label[label], seed)[: quota.get(label, 0)]
    return chosen


def mix(
    store: Store,
    real: str,
    synthetic: Sequence[str],
    out: str,
    *,
    max_synthetic_share: float = DEFAULT_MAX_SYNTHETIC_SHARE,
    seed: int = 0,
    real_split: str | None = "train",
    fill: bool = False,
) -> MixReport:
    """Write the mixed training set to a new dataset ``out`` and return the report."""
    synthetic_cap(1, max_synthetic_share)  # validate before touching the store
    scheme = store.scheme(real)
    for name in synthetic:
        other = store.scheme(name)
        if other.labels != scheme.labels or other.kind != scheme.kind:
            raise ConfigError(
                f"dataset '{name}' uses labels {list(other.labels)} ({other.kind}) but the real dataset "
                f"'{real}' uses {list(scheme.labels)} ({scheme.kind}); mix datasets of one scheme"
            )
    real_id = store.dataset_id(real)
    real_samples = store.samples(real_id, split=real_split)
    if not real_samples:
        where = f" in split '{real_split}'" if real_split else ""
        raise DataError(f"dataset '{real}' has no accepted samples{where}; import real data or pick another split")
    outside = {s.id for s in store.iter_samples(real_id) if real_split and s.split != real_split and s.id is not None}
    candidates = (s for name in synthetic for s in store.iter_samples(store.dataset_id(name)))
    pool, leaky = without_holdout_parents(candidates, outside)
    chosen = select_synthetic(real_samples, pool, max_synthetic_share, seed, fill=fill)
    report = _report(real, synthetic, real_samples, chosen, len(pool), max_synthetic_share, seed, leaky)
    dataset_id = store.create_dataset(out, scheme, kind="mixed", meta={"mix": report.as_dict()})
    rows = [
        s.model_copy(update={"id": None, "split": "train", "attributes": {**s.attributes, "origin": "real"}})
        for s in real_samples
    ]
    rows += [
        s.model_copy(update={"id": None, "split": "train", "attributes": {**s.attributes, "origin": "synthetic"}})
        for s in chosen
    ]
    store.add_samples(dataset_id, rows)
    report.dataset_id = dataset_id
    return report


def _report(
    real: str,
    synthetic: Sequence[str],
    real_samples: list[Sample],
    chosen: list[Sample],
    available: int,
    max_share: float,
    seed: int,
    leaky: int,
) -> MixReport:
    per_label: dict[str, dict[str, int]] = defaultdict(lambda: {"real": 0, "synthetic": 0})
    for s in real_samples:
        per_label[s.target()]["real"] += 1
    for s in chosen:
        per_label[s.target()]["synthetic"] += 1
    total = len(real_samples) + len(chosen)
    return MixReport(
        real=len(real_samples),
        synthetic=len(chosen),
        available_synthetic=available,
        synthetic_share=round(len(chosen) / total, 4) if total else 0.0,
        max_synthetic_share=max_share,
        seed=seed,
        real_dataset=real,
        synthetic_datasets=list(synthetic),
        per_label=dict(per_label),
        per_strategy=dict(Counter(s.provenance.strategy or "unknown" for s in chosen)),
        excluded_leaky=leaky,
    )
