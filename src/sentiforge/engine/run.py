"""The job engine: runs a recipe's steps with bounded concurrency, streams samples to the
store, and resumes a killed job exactly where it stopped.

Resume works because (1) each slot of a step's plan is deterministic, (2) an accepted
sample is stored with its slot under a unique (job, slot) constraint, and (3) every
response is cached by request content, committed before a sample made from it counts, so a
resumed job skips filled slots and replays the rest from the cache: a kill repays only the
answers in flight.

An :class:`Engine` is configuration only (store, backend, prompts, flush policy); each
``run`` makes a :class:`JobRun` that holds that run's state, claims the job (or runs a shard
its caller claimed) and keeps the claim alive, stopping at a cancel asked from another process
(engine/claim.py). Each step's strategy comes from the plan (engine/plan.py) and, when the
recipe asks, its answers from provider batches first (engine/batching.py). Database writes
run in a worker thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import Field

from sentiforge.backends.base import Backend
from sentiforge.backends.client import Accounting, LLMClient, Pricing
from sentiforge.backends.redis_cache import RedisCache, shared_cache
from sentiforge.config import DEFAULT_RUNTIME, Runtime
from sentiforge.counters import SPEND_FIELDS, Counters
from sentiforge.engine.batching import prefetch_step
from sentiforge.engine.claim import HEARTBEAT_SECONDS, Claim, claim_job
from sentiforge.engine.plan import prompt_library, seed_pool, step_strategy
from sentiforge.engine.step import StepRun
from sentiforge.errors import BudgetExceededError, PermanentBackendError, SentiforgeError, TransientBackendError
from sentiforge.progress import OnProgress, Update
from sentiforge.prompts import PromptLibrary
from sentiforge.recipe import OpenAISpec, Recipe
from sentiforge.samples import Sample, text_hash
from sentiforge.store import Store
from sentiforge.store.jobs import Beat
from sentiforge.store.schemas import JobPublic
from sentiforge.store.shards import ShardPublic
from sentiforge.strategies.base import StepContext, Task

MIN_CELL_ATTEMPTS = 6  # failed attempts (at least 2 slots) before a cell that never worked is given up


class JobResult(Counters):
    """How one run of a job ended: its status, its counters, and what it took."""

    job_id: int
    dataset_id: int
    status: str
    target: int
    seconds: float
    error: str | None = None
    per_step: list[int] = Field(default_factory=list)
    reused: dict[int, int] = Field(default_factory=dict)  # answers other jobs paid for, by payer job


class Engine:
    """How jobs run: the store, the backend, prompts and the flush and heartbeat policy."""

    def __init__(
        self,
        store: Store,
        backend: Backend,
        *,
        prompts: PromptLibrary | None = None,
        progress: OnProgress | None = None,
        flush_every: int = 100,
        flush_seconds: float = 1.0,
        concurrency: int | None = None,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        owner: str | None = None,
        judge_dir: Path | None = None,
        cache_url: str = "",
        cache_ttl: float = 0.0,
    ) -> None:
        self.store = store
        self.backend = backend
        self.prompts = prompts
        self.progress = progress
        self.flush_every = flush_every
        self.flush_seconds = flush_seconds
        self.concurrency = concurrency
        self.heartbeat_seconds = heartbeat_seconds
        self.owner = owner
        self.judge_dir = judge_dir  # where fitted judge calibrations are kept
        self.cache_url = cache_url  # the Redis response cache shared by every process ("": the store's)
        self.cache_ttl = cache_ttl

    async def run(self, job_id: int, shard: ShardPublic | None = None) -> JobResult:
        """Claim the job (JobConflictError if another process runs it) and run it to its end.
        With ``shard`` (claimed by the caller, see app/shards.py), run only its slot range."""
        if shard is not None:
            job = await asyncio.to_thread(self.store.job, job_id)
            return await JobRun(self, job, Claim.of_shard(self.store, shard, self.owner), shard).run()
        job, claim = await claim_job(self.store, job_id, self.owner)
        return await JobRun(self, job, claim).run()


def in_shard(slot: str, shard: ShardPublic | None, size: int) -> bool:
    """Whether a slot ("step:index" or "step:index:attempt") belongs to ``shard``: refill
    indices past the step's size belong to the shard of ``index % size``."""
    if shard is None:
        return True
    step, index = slot.split(":")[:2]
    return int(step) == shard.step and shard.start <= int(index) % max(size, 1) < shard.stop


class JobRun:
    """One run of one job: the claim, the running totals, the writer and the stop reason."""

    def __init__(self, engine: Engine, job: JobPublic, claim: Claim, shard: ShardPublic | None = None) -> None:
        self.engine = engine
        self.store = engine.store
        self.job = job
        self.claim = claim
        self.shard = shard
        self.recipe = Recipe.model_validate(job.recipe)
        self.prompts = engine.prompts or prompt_library(self.recipe)
        self.done_slots, self.hashes, self.reject_slots = self.store.job_progress(job.id)
        self.step_size = 0  # the sharded step's size, known once its strategy is built
        self.done = len(self.done_slots)
        self.rejected = len(self.reject_slots)
        assert job.dataset_id is not None, "a recipe job always fills a dataset"
        self.dataset_id: int = job.dataset_id
        self.writer = self.store.writer(self.dataset_id, job.id, engine.backend.key, shard.id if shard else None)
        self.shared_cache: RedisCache | None = None  # the engine's cache_url's, opened when the run starts
        self.client = LLMClient(
            engine.backend,
            cache=self.writer.cache,
            accounting=self._accounting(),
            concurrency=engine.concurrency,
            seed=self.recipe.seed,
            cache_scope=f"job:{job.id}" if self.recipe.fresh else "",
        )
        self.writer.count_paid(self.client.accounting)  # each paid answer's counters go with its cache row
        self.stop: str | None = None
        self.error: str | None = None
        self.last_flush = time.monotonic()
        self.flushing = asyncio.Lock()
        self.committing = asyncio.Lock()

    def _accounting(self) -> Accounting:
        job: JobPublic | ShardPublic = self.shard or self.job
        backend = self.recipe.backend
        return Accounting(
            pricing=Pricing(backend.input_per_mtok, backend.output_per_mtok),
            max_cost=self.recipe.max_cost,
            max_total_tokens=self.recipe.max_total_tokens,
            **{name: getattr(job, name) for name in SPEND_FIELDS},
        )

    async def run(self) -> JobResult:
        started = time.monotonic()
        per_step: list[int] = []
        every = self.engine.heartbeat_seconds
        async with self.claim.kept(self._told, every=every, until=lambda: self.stop is not None):
            try:
                await self._open_cache()
                per_step = await self._steps()
            except SentiforgeError as exc:
                self.error, self.stop = str(exc), "failed"
            except BaseException:
                await self._final_flush(status="incomplete", error="interrupted; resume the job to finish it")
                raise
            finally:
                if self.shared_cache is not None:
                    self.shared_cache.close()
        target = self.shard.stop - self.shard.start if self.shard else self.job.target
        status = self.stop or ("completed" if self.done >= target else "incomplete")
        await self._final_flush(status=status, error=self.error)
        if reused := dict(self.writer.cache.reused):  # said in the job's summary (app/summaries.py)
            await asyncio.to_thread(self.store.add_job_event, self.job.id, "reused", jobs=reused)
        return JobResult(
            job_id=self.job.id,
            dataset_id=self.dataset_id,
            status=status,
            target=self.job.target,
            seconds=time.monotonic() - started,
            error=self.error,
            per_step=per_step,
            reused=reused,
            **self._counts(),
        )

    async def _open_cache(self) -> None:
        """The response cache: Redis where the engine's cache_url names one (unreachable: the run
        fails here, saying so), else the store's, whose key index is read first."""
        self.shared_cache = await asyncio.to_thread(shared_cache, self.engine.cache_url, self.engine.cache_ttl)
        if self.shared_cache is None:
            await asyncio.to_thread(self.writer.cache.load_index)
        else:
            self.client.cache = self.shared_cache

    async def _steps(self) -> list[int]:
        scheme = self.recipe.label_scheme()
        pool = await asyncio.to_thread(seed_pool, self.store, self.recipe)
        per_step: list[int] = []
        for i, spec in enumerate(self.recipe.steps):
            if self.shard is not None and i != self.shard.step:
                continue
            ctx = StepContext(
                client=self.client,
                scheme=scheme,
                prompts=self.prompts,
                language=self.recipe.language,
                pool=pool,
                job_seed=self.recipe.seed,
                step=i,
                judge_dir=self.engine.judge_dir,
            )
            run = StepRun(step_strategy(spec), ctx, 0)
            run.budget.max_failed_slots = max(2, -(-MIN_CELL_ATTEMPTS // self.recipe.max_attempts))
            run.accepted = sum(1 for s in self.done_slots if s.startswith(f"{i}:") and self._mine(s, run.size))
            if self.shard is not None:
                self.step_size, run.size = run.size, self.shard.stop - self.shard.start
                self.done, self.rejected = run.accepted, sum(self._mine(s, self.step_size) for s in self.reject_slots)
            backend = self.recipe.backend
            if isinstance(backend, OpenAISpec) and backend.batch_api:  # answers come from provider batches first
                await prefetch_step(self, run)
            per_step.append(await self._run_step(run))
            if self.stop:
                break
        return per_step

    def _told(self, beat: Beat) -> None:
        """The claim's keeper says stop: a cancel was asked, or the claim was lost."""
        if beat == "cancel":
            self.stop = "cancelled"
        elif beat == "lost":
            self.stop, self.error = "failed", "another process took the job over (this run looked dead)"

    def _mine(self, slot: str, size: int) -> bool:
        return in_shard(slot, self.shard, size)

    def _indices(self, run: StepRun) -> Iterator[int]:
        indices = itertools.count() if run.strategy.refill else iter(range(run.size))
        if self.shard is not None:  # its range, then (refills) the same range in each later band
            a, b, size = self.shard.start, self.shard.stop, self.step_size
            bands = itertools.count() if run.strategy.refill else range(1)
            indices = (band * size + i for band in bands for i in range(a, b))
        step = run.ctx.step
        return (i for i in indices if f"{step}:{i}" not in self.done_slots)

    async def _next_task(self, run: StepRun, indices: Iterator[int], refill_limit: int) -> Task | None:
        """The next slot to work on, or None when the step is full, exhausted or stopped."""
        async with run.changed:
            while True:
                while run.accepted + run.inflight + run.given_up >= run.size and not self._step_over(run):
                    await run.changed.wait()
                if self._step_over(run):
                    return None
                index = next(indices, None)
                if index is None or index > refill_limit:
                    return None
                if index < (self.step_size or run.size) or not run.short:
                    run.inflight += 1
                    return run.strategy.task(index, run.ctx)
                origin = run.strategy.task(run.short.popleft(), run.ctx)
                cell = run.budget.next_for(origin, run.strategy, run.ctx, self.step_size or run.size)
                if cell is None:
                    run.given_up += 1
                    continue
                run.inflight += 1
                return run.strategy.task(index, run.ctx).refilling(cell)

    def _step_over(self, run: StepRun) -> bool:
        return run.accepted + run.given_up >= run.size or self.stop is not None

    async def _run_step(self, run: StepRun) -> int:
        indices = self._indices(run)
        full = self.step_size or run.size
        refill_limit = full * (self.recipe.max_attempts + 1) + 100  # never loop forever on a hopeless step

        async def worker() -> None:
            while not self.stop:
                task = await self._next_task(run, indices, refill_limit)
                if task is None:
                    return
                ok = False
                try:
                    ok = await self._run_slot(run, task)
                finally:
                    async with run.changed:
                        run.inflight -= 1
                        run.accepted += int(ok)
                        reason = run.reasons.pop(task.attempt_key, None)
                        if ok:
                            run.budget.filled(task)
                        elif not self.stop and run.strategy.refill:
                            run.budget.failed(task, reason)
                            run.short.append(task.index if task.origin is None else task.origin)
                        run.changed.notify_all()

        workers = [asyncio.create_task(worker()) for _ in range(self.client.concurrency)]
        try:
            await asyncio.gather(*workers)
        finally:
            for w in workers:
                w.cancel()
            await self._log_notes(run)
        unfilled = run.budget.report()
        if unfilled and not self.stop:
            self.error = unfilled if self.error is None else f"{self.error}; {unfilled}"
        return run.accepted

    async def _log_notes(self, run: StepRun) -> None:
        """What the step decided on its own, into the job's events: the judge's calibration,
        quotas moved off cells given up."""
        notes = [*run.ctx.notes, *(("quota_moved", {"step": run.ctx.step, **m}) for m in run.budget.moved)]
        run.ctx.notes.clear()
        for kind, data in notes:
            await asyncio.to_thread(self.store.add_job_event, self.job.id, kind, **data)

    async def _run_slot(self, run: StepRun, task: Task) -> bool:
        for attempt in range(self.recipe.max_attempts):
            if self.stop:
                return False
            try:
                sample = await run.strategy.run(task, attempt, run.ctx)
            except BudgetExceededError as exc:
                self.stop, self.error = "budget_stopped", str(exc)
                return False
            except PermanentBackendError:
                raise
            except TransientBackendError as exc:
                sample = Sample(text="<no answer>", status="rejected", reason=f"backend error after retries: {exc}")
            if await self._keep(sample, task, attempt):
                return True
            run.reasons[task.attempt_key] = sample.reason
        return False

    async def _keep(self, sample: Sample, task: Task, attempt: int) -> bool:
        """Store an attempt's sample: accepted (True) unless it repeats one, else as a reject."""
        await self._commit_answers()
        if sample.status == "accepted":
            h = text_hash(sample.text)
            if h not in self.hashes and await self._claim(h, task.slot):
                self.writer.add(sample, task.slot)
                self.done += 1
                await self._after_write()
                return True
            sample = sample.model_copy(update={"status": "rejected", "reason": "exact duplicate of an accepted sample"})
        key = f"{task.attempt_key}:{attempt}"
        if key not in self.reject_slots:
            self.reject_slots.add(key)
            self.writer.add(sample, key)
            self.rejected += 1
            await self._after_write()
        return False

    async def _commit_answers(self) -> None:
        """Commit the answers paid so far (with the paid counters) before a sample made from them
        counts, so a killed run repays only answers in flight. One transaction, in a worker
        thread, for every answer that came meanwhile (slots queue on the lock: a group commit);
        a failed write leaves them buffered for the samples' next batch."""
        cache = self.writer.cache
        async with self.committing:
            if not cache.pending or self.client.cache is not cache:
                return
            answers = cache.take()
            try:
                await asyncio.to_thread(cache.write, answers)
            except SentiforgeError:
                cache.settle(answers, written=False)
                return
            cache.settle(answers, written=True)

    async def _claim(self, h: str, slot: str) -> bool:
        """Take a text for a slot. A shard also claims it in the store, as other shards of the
        job run at once in other processes: only one of them accepts a text; the loser's slot
        tries again as on a duplicate within the run."""
        self.hashes.add(h)  # before the claim's await: no other slot of this run takes it meanwhile
        if self.shard is None:
            return True
        return await asyncio.to_thread(self.store.claim_text, self.dataset_id, h, self.job.id, slot)

    async def _after_write(self) -> None:
        if self.engine.progress:
            self.engine.progress(Update(done=self.done, total=self.job.target, rejected=self.rejected))
        if len(self.writer) >= 4 * self.engine.flush_every and self.flushing.locked():
            # backpressure: the store is behind. A backend that answers without suspending
            # (the fake, a cache) would otherwise never let the event loop see the write end,
            # and the buffer would hold the whole job (3 KB a sample)
            async with self.flushing:
                pass
        due = time.monotonic() - self.last_flush >= self.engine.flush_seconds
        if (len(self.writer) >= self.engine.flush_every or due) and not self.flushing.locked():
            await self._flush()

    def _counts(self) -> dict[str, Any]:
        """The job's running totals (:data:`~sentiforge.counters.COUNTER_FIELDS`)."""
        spent = self.client.accounting.model_dump(include=set(SPEND_FIELDS))
        return {"done": self.done, "rejected": self.rejected, **spent}

    async def _flush(self, **job_values: object) -> None:
        """Commit what is buffered in a worker thread; the event loop keeps serving slots."""
        async with self.flushing:
            batch = self.writer.take()
            self.last_flush = time.monotonic()
            try:
                await asyncio.to_thread(self.writer.write, batch, **self._counts(), **job_values)
            except BaseException:
                self.writer.settle(batch, written=False)
                raise
            self.writer.settle(batch, written=True)

    async def checkpoint(self) -> None:
        """Commit what is buffered (samples, cached responses) with the job's counters now."""
        await self._flush()

    async def _final_flush(self, *, status: str, error: str | None) -> None:
        # a job's cancel request is settled on its row; a shard's row has no such flag (the
        # shards' roll-up clears the job's when the last one ends)
        settle: dict[str, object] = {} if self.shard is not None else {"cancel_requested": False}
        await self._flush(status=status, error=error, **settle)


def runtime_options(runtime: Runtime) -> dict[str, Any]:
    """The engine options a :class:`~sentiforge.config.Runtime` sets: where judge calibrations
    are kept (the model folder) and the shared Redis response cache."""
    return {"judge_dir": runtime.model_dir, "cache_url": runtime.cache_url, "cache_ttl": runtime.cache_ttl}


async def run_job(
    store: Store,
    job_id: int,
    *,
    backend: Backend | None = None,
    runtime: Runtime = DEFAULT_RUNTIME,
    **engine_options: Any,
) -> JobResult:
    """Run a job from where it stopped (or from the start). Builds the backend from the job's
    recipe if none is given, and closes only a backend it built. ``runtime`` (handed down from
    an entry point) sets the engine options it names unless they are given."""
    from sentiforge.backends import from_spec

    owned = backend is None
    backend = backend or from_spec(Recipe.model_validate(store.job(job_id).recipe).backend, runtime)
    try:
        return await Engine(store, backend, **(runtime_options(runtime) | engine_options)).run(job_id)
    finally:
        if owned:
            await backend.aclose()
