"""Jobs started over HTTP run here, in the server process, as asyncio tasks: at most
``max_running`` at once, the rest stay queued until a slot frees. With a broker configured
(``SENTIFORGE_BROKER_URL``), a generation job larger than one shard goes to the workers instead
(:func:`sentiforge.app.shards.wants_workers`).

At startup, jobs left ``running`` by a process that is gone (a killed server) are marked
``incomplete`` so they can be resumed, and with a broker, the shards of running jobs that wait
are sent again (a restart may have lost their messages); while it runs, it sweeps for shards
of dead workers like every worker does (:func:`sentiforge.app.shards.sweep`); at shutdown,
running jobs are stopped the way Ctrl-C stops the CLI (what was made is kept, the job is
``incomplete``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from sentiforge.config import DEFAULT_RUNTIME

if TYPE_CHECKING:
    from sentiforge.config import Settings
    from sentiforge.store import Store

log = logging.getLogger("sentiforge.api")


class JobRunner:
    def __init__(self, store: Store, max_running: int, settings: Settings | None = None) -> None:
        self.store = store
        self.settings = settings
        self.runtime = settings.runtime() if settings is not None else DEFAULT_RUNTIME  # handed to every job
        self.slots = asyncio.Semaphore(max(1, max_running))
        self.tasks: dict[int, asyncio.Task[None]] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self.sweeper: asyncio.Task[None] | None = None

    async def startup(self) -> list[int]:
        from sentiforge.app import jobs

        self.loop = asyncio.get_running_loop()
        reclaimed = await asyncio.to_thread(jobs.reclaim, self.store)
        if reclaimed:
            log.warning("jobs %s were left running by a stopped process: marked incomplete", reclaimed)
        if self.settings is not None and self.settings.broker_url:
            await self._sweep(waiting=True)
        self.sweeper = asyncio.create_task(self._sweep_forever(), name="shard-sweeper")
        return reclaimed

    async def _sweep(self, *, waiting: bool = False) -> None:
        from sentiforge.app.shards import sweep
        from sentiforge.worker.tasks import send

        try:
            if sent := await asyncio.to_thread(sweep, self.store, send, waiting=waiting):
                log.warning("shards %s were waiting or left by a stopped worker: sent again", sent)
        except Exception as exc:  # the broker or the database is away for now: the next round retries
            log.warning("the shard sweep failed: %s", exc)

    async def _sweep_forever(self) -> None:
        """Every sweep period: the shards of dead workers (with a broker), and this process's
        fleet counters saved (a scrape of another server process then sees them)."""
        from sentiforge.app import fleet
        from sentiforge.app.shards import SWEEP_SECONDS

        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            if self.settings is not None and self.settings.broker_url:
                await self._sweep()
            try:
                await asyncio.to_thread(fleet.save, self.store)
            except Exception as exc:  # the database is away for now: the next round saves
                log.warning("could not save the fleet counters: %s", exc)

    def resume(self, job_id: int, max_cost: float | None = None) -> None:
        """Run a stopped job again; a sharded job that shows running, but whose shards' workers
        died or whose queued shards lost their messages, gets those shards sent again."""
        from sentiforge.app import jobs, shards
        from sentiforge.store.jobs import SHARDED

        job = jobs.get(self.store, job_id)
        if job.status == "running" and job.claimed_by == SHARDED and self.settings and self.settings.broker_url:
            from sentiforge.worker.tasks import send

            shards.revive(self.store, job_id, send)
        else:
            jobs.requeue(self.store, job_id)
        if max_cost is not None:
            jobs.set_budget(self.store, job_id, max_cost)
        if job.status != "running":
            self.start(job_id)

    def start(self, job_id: int) -> None:
        """Run the job in the background (callable from any thread)."""
        assert self.loop is not None, "the runner starts with the app"
        self.loop.call_soon_threadsafe(self._spawn, job_id)

    def _spawn(self, job_id: int) -> None:
        if job_id not in self.tasks:
            self.tasks[job_id] = asyncio.create_task(self._run(job_id), name=f"job-{job_id}")

    async def _run(self, job_id: int) -> None:
        from sentiforge.app import fleet, jobs

        try:
            if await asyncio.to_thread(self._to_workers, job_id):
                return
            async with self.slots:
                progress = fleet.sample_counter((await asyncio.to_thread(jobs.get, self.store, job_id)).done)
                status = await jobs.execute(self.store, job_id, progress=progress, runtime=self.runtime)
                log.info("job %s finished: %s", job_id, status)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the job row carries the error; the server goes on
            log.warning("job %s stopped: %s", job_id, exc)
        finally:
            self.tasks.pop(job_id, None)

    def _to_workers(self, job_id: int) -> bool:
        from sentiforge.app.shards import wants_workers

        if self.settings is None or not wants_workers(self.store, job_id, self.settings):
            return False
        from sentiforge.worker.tasks import dispatch

        shards = dispatch(self.store, job_id, self.settings.shard_size)
        log.info("job %s sent to the workers in %d shards", job_id, len(shards))
        return True

    async def shutdown(self) -> None:
        if self.sweeper is not None:
            self.sweeper.cancel()
        for task in list(self.tasks.values()):
            task.cancel()
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)
