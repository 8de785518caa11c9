"""Quality over time: the summaries of a dataset's quality runs, or of the jobs that filled a
dataset or ran one recipe, in order, each with its change from the run before and a flag on
the measures that moved beyond a threshold.

Measures: reject rate, label balance, judge agreement, mean score (quality runs), diversity
(distinct-2, self-similarity) and distance to the real seeds (quality/summary.py). Label
balance compares label shares by total variation distance; the others by absolute
difference. A measure missing on either side (no judge, no seeds) is not compared. In quality
runs, labels are the samples' labels now (a relabel since shows up in older runs).
"""

from __future__ import annotations

from typing import Any

from sentiforge.errors import NotFoundError
from sentiforge.store import Store

MEASURES = (
    "reject_rate",
    "label_balance",
    "judge_agreement",
    "mean_score",
    "distinct_2",
    "self_similarity",
    "seed_distance",
)


def _shares(labels: dict[str, int]) -> dict[str, float]:
    total = sum(labels.values()) or 1
    return {k: v / total for k, v in labels.items()}


def _changes(prev: dict[str, Any], run: dict[str, Any]) -> dict[str, float]:
    a, b = _shares(prev.get("labels") or {}), _shares(run.get("labels") or {})
    out = {"label_balance": 0.5 * sum(abs(a.get(k, 0.0) - b.get(k, 0.0)) for k in set(a) | set(b))}
    for measure in MEASURES:
        if measure != "label_balance" and run.get(measure) is not None and prev.get(measure) is not None:
            out[measure] = abs(float(run[measure]) - float(prev[measure]))
    return {k: round(v, 4) for k in MEASURES if (v := out.get(k)) is not None}


def flag(runs: list[dict[str, Any]], threshold: float) -> list[dict[str, Any]]:
    """Each run (oldest first) with its label shares, its change from the one before, and the
    measures that moved more than ``threshold`` (``flagged``)."""
    for prev, run in zip([None, *runs], runs, strict=False):
        run["label_shares"] = {k: round(v, 4) for k, v in _shares(run.get("labels") or {}).items()}
        run["change"] = _changes(prev, run) if prev else {}
        run["flagged"] = sorted(k for k, v in run["change"].items() if v > threshold)
    return runs


def quality_history(store: Store, dataset: str, threshold: float = 0.1) -> list[dict[str, Any]]:
    """Every quality run of ``dataset``, oldest first, flagged against the run before."""
    return flag(store.quality_run_summaries(store.dataset_id(dataset)), threshold)


def job_history(
    store: Store, *, dataset: str | None = None, recipe: str | None = None, threshold: float = 0.1
) -> list[dict[str, Any]]:
    """The summaries of the jobs that filled ``dataset``, or that ran ``recipe`` (its name or
    content hash, across datasets), oldest first, flagged against the job before."""
    runs = store.job_summaries(store.dataset_id(dataset) if dataset else None)
    if recipe is not None:
        runs = [r for r in runs if recipe in (r.get("recipe", {}).get("name"), r.get("recipe", {}).get("hash"))]
        if not runs:
            raise NotFoundError(f"no finished job with a summary ran a recipe named (or hashed) '{recipe}'")
    return flag(runs, threshold)
