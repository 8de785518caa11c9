"""Quality over time: a summary per quality run of a dataset (reject rate and rejects by check,
label balance, judge agreement, mean score) and a flag where a run moved beyond a threshold
from the run before it.

Label balance compares label shares by total variation distance; rates and agreement by
absolute difference. Labels are the samples' labels now (a relabel since shows up in older runs).
"""

from __future__ import annotations

from typing import Any

from sentiforge.store import Store

MEASURES = ("reject_rate", "label_balance", "judge_agreement", "mean_score")


def _shares(labels: dict[str, int]) -> dict[str, float]:
    total = sum(labels.values()) or 1
    return {k: v / total for k, v in labels.items()}


def _changes(prev: dict[str, Any], run: dict[str, Any]) -> dict[str, float]:
    a, b = _shares(prev["labels"]), _shares(run["labels"])
    out = {
        "reject_rate": abs(run["reject_rate"] - prev["reject_rate"]),
        "label_balance": 0.5 * sum(abs(a.get(k, 0.0) - b.get(k, 0.0)) for k in set(a) | set(b)),
        "mean_score": abs(run["mean_score"] - prev["mean_score"]),
    }
    if run["judge_agreement"] is not None and prev["judge_agreement"] is not None:
        out["judge_agreement"] = abs(run["judge_agreement"] - prev["judge_agreement"])
    return {k: round(v, 4) for k, v in out.items()}


def quality_history(store: Store, dataset: str, threshold: float = 0.1) -> list[dict[str, Any]]:
    """Every quality run of ``dataset``, oldest first, each with its change from the one before
    and the measures that moved more than ``threshold`` (``flagged``)."""
    runs = store.quality_run_summaries(store.dataset_id(dataset))
    for prev, run in zip([None, *runs], runs, strict=False):
        run["label_shares"] = {k: round(v, 4) for k, v in _shares(run["labels"]).items()}
        run["change"] = _changes(prev, run) if prev else {}
        run["flagged"] = sorted(k for k, v in run["change"].items() if v > threshold)
    return runs
