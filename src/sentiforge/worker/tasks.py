"""The workers' tasks: run one shard of a job, through the application layer.

A worker is an entry point: its tasks read the settings and hand the store its URL and pool
size, and the shard's run its :class:`~sentiforge.config.Runtime`.

``dispatch`` (called where a broker is configured) cuts a job into shards and queues one task
per shard. A task that finds its shard claimed by a live process (Redis redelivered it while it
still runs) retries later instead of running it twice; one that finds it finished does nothing.
Every worker runs a sweeper thread (``sentiforge.app.shards.sweep``): a shard whose worker
died is sent again by the workers still alive, with no new worker and no broker timeout.
"""

from __future__ import annotations

import logging
import threading
import time

from celery import signals

from sentiforge.app import fleet
from sentiforge.app.shards import SWEEP_SECONDS, run_shard_sync, split, sweep
from sentiforge.backends.ratelimit import on_wait
from sentiforge.config import get_settings
from sentiforge.errors import JobConflictError
from sentiforge.store import Store
from sentiforge.worker.app import celery_app

app = celery_app()
log = logging.getLogger(__name__)
on_wait(fleet.observe_wait)  # the shards' rate-limit waits, in the fleet's counters (app/fleet.py)
RETRY_SECONDS = 5


@app.task(bind=True, name="sentiforge.run_shard", max_retries=None)
def run_shard(self: object, shard_id: int) -> str:
    settings = get_settings()
    with Store(settings.database_url, pool_size=settings.db_pool_size) as store:
        try:
            shard = run_shard_sync(
                store, shard_id, max_deliveries=settings.shard_max_deliveries, runtime=settings.runtime()
            )
        except JobConflictError as exc:
            raise self.retry(countdown=RETRY_SECONDS, exc=exc) from exc  # type: ignore[attr-defined]
        except Exception as exc:
            log.exception("shard %s stopped", shard_id)
            now = store.shard(shard_id)  # the engine marks a run it stops incomplete; else it failed here
            status = "failed" if now.status == "running" else now.status
            store.finish_shard(shard_id, status, now.error or f"{type(exc).__name__}: {exc}")
            return status
    return shard.status


def send(shard_ids: list[int], queue: str | None = None) -> None:
    """Queue one task per shard."""
    queue = queue or get_settings().worker_queue
    for shard_id in shard_ids:
        run_shard.apply_async((shard_id,), queue=queue)


@signals.worker_ready.connect
def _start_sweeper(**_: object) -> None:
    threading.Thread(target=_sweep_forever, name="sentiforge-sweeper", daemon=True).start()


def _sweep_forever(seconds: float = SWEEP_SECONDS) -> None:
    """While this worker lives: send again the shards of workers that died (see sweep)."""
    settings = get_settings()
    with Store(settings.database_url, pool_size=settings.db_pool_size) as store:
        while True:
            try:
                if found := sweep(store, send):
                    log.warning("shards %s were left running by a stopped worker: sent again", found)
            except Exception:  # the database or the broker is away for now: try at the next round
                log.exception("the shard sweep failed")
            time.sleep(seconds)


def dispatch(store: Store, job_id: int, shard_size: int | None = None, queue: str | None = None) -> list[int]:
    """Cut a job into shards and queue them for the workers; the shard ids."""
    settings = get_settings()
    ids = split(store, job_id, shard_size or settings.shard_size)
    send(ids, queue)
    return ids
