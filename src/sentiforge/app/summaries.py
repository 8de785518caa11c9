"""Summaries kept with each finished generation/augment job and each quality run, so quality
can be charted across runs (quality/summary.py says what they hold, quality/history.py
compares them). A summary that cannot be made is logged and left out: it never fails a job."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sentiforge.store import Store

log = logging.getLogger(__name__)


def configured_embedder() -> Any:
    """The embedder ``SENTIFORGE_DRIFT_EMBEDDER`` names (None: the n-gram measures)."""
    from sentiforge.config import get_settings
    from sentiforge.quality.summary import summary_embedder

    return summary_embedder(get_settings().drift_embedder)


def reused_answers(store: Store, job_id: int) -> dict[str, Any] | None:
    """What a job took from answers other jobs paid for (the engine's "reused" events): the
    count, by payer job, and the datasets those filled (which this job's texts then repeat)."""
    from collections import Counter

    from sentiforge.errors import NotFoundError

    payers: Counter[int] = Counter()
    for event in store.job_events(job_id, limit=100_000):
        if event.kind == "reused":
            payers.update({int(k): int(n) for k, n in event.data.get("jobs", {}).items()})
    if not payers:
        return None
    datasets = set()
    for payer in payers:
        try:
            dataset_id = store.job(payer).dataset_id
            if dataset_id is not None:
                datasets.add(store.dataset(dataset_id).name)
        except NotFoundError:
            continue
    return {
        "answers": sum(payers.values()),
        "jobs": {str(j): n for j, n in sorted(payers.items())},
        "datasets": sorted(datasets),
        "note": "answers cached by earlier jobs with the same requests (recipe and seed): their texts "
        'repeat here; --fresh ("fresh": true) sends every request again',
    }


def summarise_job(store: Store, job_id: int, embedder: Any = None) -> dict[str, Any] | None:
    """Make and keep the job's summary (in its result); the summary, or None if it failed."""
    from sentiforge.quality.summary import job_summary

    try:
        summary = job_summary(store, job_id, embedder if embedder is not None else configured_embedder())
        if reused := reused_answers(store, job_id):
            summary["reused"] = reused
        store.set_job_summary(job_id, summary)
    except Exception:  # a summary is a by-product: the job's own outcome stands
        log.exception("could not summarise job %s", job_id)
        return None
    return summary
