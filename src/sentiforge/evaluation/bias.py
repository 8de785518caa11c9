"""Bias audit: are labels and errors spread evenly across the attributes samples carry?

Attributes are whatever the samples hold (domain, persona, tone, length from generation,
source from real data), plus language and aspect category. For each attribute the audit
reports how many samples each value has, the label mix per value, and, when predictions
are given, the error rate per value. Imbalances past a threshold are flagged, and each flag
comes with a concrete generation step (recipe params) that would fill the gap.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sentiforge.samples import Sample

MAX_VALUES = 30  # an attribute with more distinct values is free text, not a category
SKIP = {"id", "rating", "slot", "parent", "score"}


@dataclass
class Thresholds:
    count_ratio: float = 2.0  # most / fewest samples per value
    label_tv: float = 0.2  # total-variation distance of a value's label mix from the overall mix
    error_gap: float = 0.10  # a value's error rate above the overall one
    min_support: int = 20  # smaller groups are reported but not flagged (errors, labels; counts below it)


@dataclass
class Flag:
    kind: str  # count | labels | errors
    attribute: str
    value: str
    message: str
    suggestion: dict[str, Any] | None = None


@dataclass
class AttributeAudit:
    attribute: str
    counts: dict[str, int]
    label_counts: dict[str, dict[str, int]]
    error_rates: dict[str, float] = field(default_factory=dict)


@dataclass
class BiasAudit:
    name: str
    n: int
    overall_labels: dict[str, int]
    overall_error: float | None
    attributes: list[AttributeAudit]
    flags: list[Flag]
    thresholds: Thresholds

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def attribute_values(sample: Sample) -> dict[str, str]:
    """The categorical attributes of a sample, as strings."""
    out = {k: str(v) for k, v in sample.attributes.items() if k not in SKIP and isinstance(v, str | int | bool)}
    out["language"] = sample.language
    if sample.aspects:
        categories = sorted({a.category for a in sample.aspects if a.category})
        if categories:
            out["aspect_category"] = "+".join(categories)
    return out


def audit(
    samples: Sequence[Sample],
    *,
    predictions: Sequence[str] | None = None,
    name: str = "synthetic",
    thresholds: Thresholds | None = None,
) -> BiasAudit:
    """Audit one set. ``predictions`` (one target string per sample) adds error rates."""
    th = thresholds or Thresholds()
    targets = [s.target() for s in samples]
    wrong = [p != t for p, t in zip(predictions, targets, strict=True)] if predictions is not None else None
    overall = dict(Counter(targets))
    overall_error = sum(wrong) / len(wrong) if wrong else None
    groups: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for i, s in enumerate(samples):
        for attr, value in attribute_values(s).items():
            groups[attr][value].append(i)
    audits, flags = [], []
    for attr in sorted(groups):
        values = groups[attr]
        if len(values) < 2 or len(values) > MAX_VALUES:
            continue
        a = AttributeAudit(
            attribute=attr,
            counts={v: len(ix) for v, ix in sorted(values.items())},
            label_counts={v: dict(Counter(targets[i] for i in ix)) for v, ix in sorted(values.items())},
        )
        if wrong is not None:
            a.error_rates = {v: sum(wrong[i] for i in ix) / len(ix) for v, ix in sorted(values.items())}
        audits.append(a)
        flags += _count_flags(a, th) + _label_flags(a, overall, th) + _error_flags(a, overall_error, th)
    return BiasAudit(name, len(samples), overall, overall_error, audits, flags, th)


def _step(count: int, attr: str, value: str, label: str | None = None) -> dict[str, Any]:
    """A targeted prompt and the recipe step that would make ``count`` more samples of one value (and label)."""
    params: dict[str, Any] = {"count": max(1, count)}
    if attr not in {"language", "aspect_category", "source"}:
        params["attributes"] = {attr: [value]}
    if label is not None:
        params["labels"] = [label]
    if attr == "aspect_category":
        params["aspect_categories"] = [value]
    what = f"{label} texts" if label else "texts"
    out: dict[str, Any] = {
        "prompt": f"Write {max(1, count)} more {what} where {attr} is '{value}'.",
        "step": {"strategy": "generate", "params": params},
    }
    if attr == "language":
        out["recipe"] = {"language": value}
    return out


def _count_flags(a: AttributeAudit, th: Thresholds) -> list[Flag]:
    most = max(a.counts.values())
    if most < th.min_support:  # a handful of samples per value: differences are sampling noise
        return []
    out = []
    for value, n in a.counts.items():
        if n * th.count_ratio < most:
            out.append(
                Flag(
                    "count",
                    a.attribute,
                    value,
                    f"{a.attribute}={value} has {n} samples, {most / max(n, 1):.1f}x fewer than the largest value",
                    _step(most - n, a.attribute, value),
                )
            )
    return out


def _label_flags(a: AttributeAudit, overall: dict[str, int], th: Thresholds) -> list[Flag]:
    total = sum(overall.values())
    out = []
    for value, labels in a.label_counts.items():
        n = sum(labels.values())
        tv = 0.5 * sum(abs(labels.get(k, 0) / n - overall[k] / total) for k in overall)
        if tv <= th.label_tv or n < th.min_support:
            continue
        # the label furthest below its overall share, and how many samples would restore it
        short = min(overall, key=lambda k: labels.get(k, 0) / n - overall[k] / total)
        want = overall[short] / total
        need = int((want * n - labels.get(short, 0)) / max(1e-9, 1 - want)) + 1
        out.append(
            Flag(
                "labels",
                a.attribute,
                value,
                f"{a.attribute}={value}: label mix differs from the overall one (TV {tv:.2f}); "
                f"'{short}' is {labels.get(short, 0) / n:.0%} here vs {want:.0%} overall",
                _step(need, a.attribute, value, short),
            )
        )
    return out


def _error_flags(a: AttributeAudit, overall_error: float | None, th: Thresholds) -> list[Flag]:
    if overall_error is None:
        return []
    out = []
    for value, rate in a.error_rates.items():
        if a.counts[value] >= th.min_support and rate > overall_error + th.error_gap:
            out.append(
                Flag(
                    "errors",
                    a.attribute,
                    value,
                    f"{a.attribute}={value}: error rate {rate:.0%} vs {overall_error:.0%} overall "
                    f"({a.counts[value]} samples); add harder, varied examples of this value",
                    _step(a.counts[value] // 2, a.attribute, value),
                )
            )
    return out
