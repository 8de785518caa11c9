"""Sharded jobs: a job's steps split into slot ranges that worker processes run in parallel.

:func:`split` makes the shards of a job (each step's plan cut into ranges of ``size`` slots);
:func:`run_shard` claims one (counting the delivery) and runs the engine over its range only.
A shard is idempotent: slots stored already are skipped and responses come from the shared
cache, so a redelivered shard neither repeats samples nor pays twice. That lets
:func:`sweep` (every live worker and the service, every ``SWEEP_SECONDS``) send again, at
once, a shard whose worker died: the job goes on within a minute with no new worker and no
wait for the broker's visibility timeout; :func:`revive` does it for a resume.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sentiforge.app import fleet
from sentiforge.config import DEFAULT_RUNTIME, Runtime
from sentiforge.engine import Engine
from sentiforge.engine.claim import claim_shard
from sentiforge.engine.plan import step_sizes
from sentiforge.engine.run import runtime_options
from sentiforge.errors import JobConflictError, SentiforgeError
from sentiforge.recipe import Recipe
from sentiforge.store import Store
from sentiforge.store.jobs import FINISHED, WAITING
from sentiforge.store.shards import ShardPublic

if TYPE_CHECKING:
    from sentiforge.backends.base import Backend
    from sentiforge.config import Settings

MAX_DELIVERIES = 3
SWEEP_SECONDS = 10.0  # how often live workers (and the service) look for shards of dead ones
Send = Callable[[list[int]], None]  # queues shards for the workers (worker/tasks.py: send)


def wants_workers(store: Store, job_id: int, settings: Settings) -> bool:
    """Whether a job goes to the workers: a broker is configured and the job is a generation
    job (run by the engine) larger than one shard. Others run in-process as before."""
    from sentiforge.app.jobs import runs_on_engine

    if not settings.broker_url:
        return False
    job = store.job(job_id)
    return runs_on_engine(job.kind) and job.target > settings.shard_size


def split(store: Store, job_id: int, size: int) -> list[int]:
    """Cut a queued (or resumable) job into shards of at most ``size`` slots; their ids."""
    job = store.job(job_id)
    if job.status not in WAITING:
        raise JobConflictError(f"job {job_id} is {job.status}: it is not waiting to run")
    if existing := [s for s in store.shards(job_id) if s.status != "completed"]:
        store.requeue_shards(job_id, [s.id for s in existing])  # resuming: its unfinished shards again
        return [s.id for s in existing]
    sizes = step_sizes(store, Recipe.model_validate(job.recipe))
    ranges = [(step, a, min(a + size, n)) for step, n in enumerate(sizes) for a in range(0, n, max(size, 1))]
    return store.create_shards(job_id, ranges)


def sweep(store: Store, send: Send, *, waiting: bool = False) -> list[int]:
    """Queue again the shards whose worker died (silent past the claims' stale limit, or a
    dead pid on this host) and send them; with ``waiting``, also send every queued shard of a
    running job, whose message a restart may have lost (a copy still queued finds the shard
    claimed or finished and does nothing). The ids sent."""
    ids = store.reclaim_dead_shards()
    if waiting:
        ids = sorted({*ids, *store.waiting_shards()})
    if ids:
        send(ids)
    return ids


def revive(store: Store, job_id: int, send: Send) -> list[int]:
    """A resume of a sharded job that still shows running: its shards whose worker died are
    queued again and, with its other queued shards, sent again. JobConflictError when every
    unfinished shard runs on a live worker."""
    ids = sorted({*store.reclaim_dead_shards(job_id=job_id), *store.waiting_shards(job_id)})
    if not ids:
        raise JobConflictError(f"job {job_id} is running: live workers hold its unfinished shards")
    send(ids)
    return ids


async def run_shard(
    store: Store,
    shard_id: int,
    *,
    backend: Backend | None = None,
    max_deliveries: int = MAX_DELIVERIES,
    runtime: Runtime = DEFAULT_RUNTIME,
    **engine_options: Any,
) -> ShardPublic:
    """Claim a shard (JobConflictError while a live process holds it) and run its slots; the
    job's totals and status are rolled up after. A shard past its delivery cap only fails."""
    from sentiforge.backends import from_spec

    shard = await claim_shard(store, shard_id, max_deliveries)
    if shard.status != "running":
        return shard
    job = store.job(shard.job_id)
    owned = backend is None
    backend = backend or from_spec(Recipe.model_validate(job.recipe).backend, runtime)
    engine_options.setdefault("progress", fleet.sample_counter(shard.done))
    saver = asyncio.create_task(_save_counters(store))
    status, error = "failed", "interrupted"  # stays so only when the run raised past the engine
    try:
        result = await Engine(store, backend, **(runtime_options(runtime) | engine_options)).run(job.id, shard)
        status, error = result.status, result.error or ""
    except SentiforgeError as exc:
        error = str(exc)
        raise
    finally:
        saver.cancel()
        if owned:
            await backend.aclose()
        if status != "failed" or error != "interrupted":
            await asyncio.to_thread(store.finish_shard, shard_id, status, error or None)
        await asyncio.to_thread(fleet.save, store)
    if store.job(job.id).status in FINISHED:  # the last shard: the job is done, summarise it
        from sentiforge.app.summaries import summarise_job

        await asyncio.to_thread(summarise_job, store, job.id, embedder_name=runtime.drift_embedder)
    return store.shard(shard_id)


async def _save_counters(store: Store) -> None:
    """While a shard runs: this process's fleet counters saved every few seconds."""
    while True:
        await asyncio.sleep(fleet.SAVE_SECONDS)
        await asyncio.to_thread(fleet.save, store)


def run_shard_sync(store: Store, shard_id: int, **options: Any) -> ShardPublic:
    return asyncio.run(run_shard(store, shard_id, **options))
