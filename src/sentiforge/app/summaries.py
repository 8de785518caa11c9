"""Summaries kept with each finished generation/augment job and each quality run, so quality
can be charted across runs (quality/summary.py says what they hold, quality/history.py
compares them). A summary that cannot be made is logged and left out: it never fails a job."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sentiforge.store import Store

log = logging.getLogger(__name__)


def configured_embedder(name: str) -> Any:
    """The embedder a name (``SENTIFORGE_DRIFT_EMBEDDER``'s value) picks (None: the n-gram measures)."""
    from sentiforge.quality.summary import summary_embedder

    return summary_embedder(name)


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


def summarise_job(
    store: Store, job_id: int, embedder: Any = None, *, embedder_name: str = "none"
) -> dict[str, Any] | None:
    """Make and keep the job's summary (in its result); the summary, or None if it failed.
    Without an ``embedder``, the one ``embedder_name`` picks."""
    from sentiforge.engine.plan import judges_labels
    from sentiforge.quality.summary import job_summary

    try:
        if embedder is None:
            embedder = configured_embedder(embedder_name)
        judged = judges_labels(store.job(job_id).recipe)
        summary = job_summary(store, job_id, None if isinstance(embedder, _NoEmbedder) else embedder, judged=judged)
        if reused := reused_answers(store, job_id):
            summary["reused"] = reused
        store.set_job_summary(job_id, summary)
    except Exception:  # a summary is a by-product: the job's own outcome stands
        log.exception("could not summarise job %s", job_id)
        return None
    return summary


_PENDING: set[threading.Thread] = set()
_PENDING_LOCK = threading.Lock()


def summarise_job_soon(store: Store, job_id: int, embedder_name: str = "none") -> dict[str, Any] | None:
    """The job's summary without holding its caller: the n-gram measures now (milliseconds),
    and, where an embedder is configured, the embedding measures in a background thread that
    replaces the summary when ready (its ``method`` says which it holds; ``pending`` is true
    until then). Loading MiniLM and embedding took 8-10 s of a 7 s API job when it ran inline."""
    embedder_wanted = _embedder_configured(embedder_name)
    summary = summarise_job(store, job_id, embedder=_NO_EMBEDDER)
    if summary is None or not embedder_wanted:
        return summary
    store.set_job_summary(job_id, {**summary, "pending": True})

    def later() -> None:
        try:
            # failed: the n-gram summary stays, not pending
            if summarise_job(store, job_id, embedder_name=embedder_name) is None:
                store.set_job_summary(job_id, summary)
        finally:
            with _PENDING_LOCK:
                _PENDING.discard(thread)

    thread = threading.Thread(target=later, name=f"sentiforge-summary-{job_id}", daemon=True)
    with _PENDING_LOCK:
        _PENDING.add(thread)
    thread.start()
    return {**summary, "pending": True}


def wait_for_summaries(timeout: float | None = None) -> bool:
    """Wait for the background summaries of this process; True when none is left."""
    with _PENDING_LOCK:
        threads = list(_PENDING)
    for thread in threads:
        thread.join(timeout)
    with _PENDING_LOCK:
        return not _PENDING


class _NoEmbedder:
    """Asks summarise_job for the n-gram measures (None there means: the configured embedder)."""


_NO_EMBEDDER: Any = _NoEmbedder()


def _embedder_configured(name: str) -> bool:
    from sentiforge.quality.summary import minilm_installed

    return minilm_installed() if name == "auto" else name != "none"
