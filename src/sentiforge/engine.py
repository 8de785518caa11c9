"""The job engine: runs a recipe's steps with bounded concurrency, streams samples to the
store, and resumes a killed job exactly where it stopped.

Resume works because (1) each slot of a step's plan is deterministic, (2) an accepted
sample is stored with its slot under a unique (job, slot) constraint, and (3) every
response is cached by request content in the same transaction as the samples it produced,
so a resumed job skips filled slots and replays the rest from the cache before paying.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sentiforge.backends.base import Backend
from sentiforge.backends.client import Accounting, LLMClient, Pricing
from sentiforge.errors import BudgetExceededError, PermanentBackendError, SentiforgeError, TransientBackendError
from sentiforge.prompts import PromptLibrary
from sentiforge.recipe import Recipe
from sentiforge.samples import Sample, text_hash
from sentiforge.store import Store
from sentiforge.strategies.base import StepContext, Strategy, Task, build_strategy

Progress = Callable[[int, int, int], None]  # done, target, rejected

POOL_LIMIT = 5000  # real examples loaded for few-shot / augmentation per job


@dataclass
class JobResult:
    job_id: int
    dataset_id: int
    status: str
    target: int
    done: int
    rejected: int
    requests: int
    cache_hits: int
    prompt_tokens: int
    completion_tokens: int
    cost: float
    seconds: float
    error: str | None = None
    per_step: list[int] = field(default_factory=list)


def create_job(store: Store, recipe: Recipe, dataset: str, *, exist_ok: bool = True) -> int:
    """Register a job (and its synthetic dataset) for a recipe; returns the job id."""
    scheme = recipe.label_scheme()
    try:
        dataset_id = store.dataset_id(dataset)
    except SentiforgeError:
        dataset_id = store.create_dataset(dataset, scheme, kind="synthetic", meta={"recipe": recipe.name})
    else:
        if not exist_ok:
            from sentiforge.errors import StoreError

            raise StoreError(f"dataset '{dataset}' exists already")
    steps = [build_strategy(s.strategy, s.params) for s in recipe.steps]
    target = sum(_planned_size(st, recipe, store) for st in steps)
    return store.create_job(dataset_id, recipe.dump(), target)


def _planned_size(strategy: Strategy, recipe: Recipe, store: Store) -> int:
    ctx = StepContext(client=None, scheme=recipe.label_scheme(), prompts=PromptLibrary(), pool=_pool(store, recipe))  # type: ignore[arg-type]
    return strategy.size(ctx)


def _pool(store: Store, recipe: Recipe) -> list[Sample]:
    if not recipe.seeds:
        return []
    dataset_id = store.dataset_id(recipe.seeds)
    return list(itertools.islice(store.iter_samples(dataset_id, split=recipe.seed_split), POOL_LIMIT))


class _StepRun:
    """Mutable state of one step while it runs."""

    def __init__(self, strategy: Strategy, ctx: StepContext, accepted: int) -> None:
        self.strategy = strategy
        self.ctx = ctx
        self.size = strategy.size(ctx)
        self.accepted = accepted
        self.inflight = 0
        self.changed = asyncio.Condition()
        # original slots whose attempts all failed: a refill takes over their target and
        # attribute cell, so class quotas stay exact however many slots the model fails
        self.short: collections.deque[int] = collections.deque()


class Engine:
    def __init__(
        self,
        store: Store,
        backend: Backend,
        *,
        prompts: PromptLibrary | None = None,
        progress: Progress | None = None,
        flush_every: int = 100,
        flush_seconds: float = 1.0,
        concurrency: int | None = None,
    ) -> None:
        self.store = store
        self.backend = backend
        self.prompts = prompts or PromptLibrary()
        self.progress = progress
        self.flush_every = flush_every
        self.flush_seconds = flush_seconds
        self.concurrency = concurrency

    async def run(self, job_id: int) -> JobResult:
        started = time.monotonic()
        job = self.store.job(job_id)
        recipe = Recipe.model_validate(job.recipe)
        scheme = recipe.label_scheme()
        done_slots, hashes, reject_slots = self.store.job_progress(job_id)
        accounting = Accounting(
            pricing=Pricing(recipe.backend.input_per_mtok, recipe.backend.output_per_mtok),
            max_cost=recipe.max_cost,
            max_total_tokens=recipe.max_total_tokens,
            requests=job.requests,
            cache_hits=job.cache_hits,
            prompt_tokens=job.prompt_tokens,
            completion_tokens=job.completion_tokens,
            cost=job.cost,
        )
        writer = self.store.writer(job.dataset_id, job_id, self.backend.key)
        client = LLMClient(
            self.backend, cache=writer.cache, accounting=accounting, concurrency=self.concurrency, seed=recipe.seed
        )
        self._state = {"done": len(done_slots), "rejected": len(reject_slots), "last_flush": time.monotonic()}
        self._hashes, self._reject_slots, self._writer, self._client = hashes, reject_slots, writer, client
        self._target, self._job = job.target, job
        self._stop: str | None = None
        self.store.update_job(job_id, status="running", error=None)
        pool = _pool(self.store, recipe)
        per_step: list[int] = []
        error: str | None = None
        try:
            for i, spec in enumerate(recipe.steps):
                strategy = build_strategy(spec.strategy, spec.params)
                ctx = StepContext(
                    client=client,
                    scheme=scheme,
                    prompts=self.prompts,
                    language=recipe.language,
                    pool=pool,
                    job_seed=recipe.seed,
                    step=i,
                )
                already = sum(1 for s in done_slots if s.startswith(f"{i}:"))
                per_step.append(await self._run_step(_StepRun(strategy, ctx, already), recipe, done_slots))
                if self._stop:
                    break
        except SentiforgeError as exc:
            error, self._stop = str(exc), "failed"
        status = self._stop or ("completed" if self._state["done"] >= job.target else "incomplete")
        if status == "budget_exhausted":
            error = self._budget_error
        self._flush(status=status, error=error)
        return JobResult(
            job_id=job_id,
            dataset_id=job.dataset_id,
            status=status,
            target=job.target,
            seconds=time.monotonic() - started,
            error=error,
            per_step=per_step,
            **self._counts(),
        )

    def _indices(self, run: _StepRun, done_slots: set[str]) -> Iterator[int]:
        indices = itertools.count() if run.strategy.refill else iter(range(run.size))
        step = run.ctx.step
        return (i for i in indices if f"{step}:{i}" not in done_slots)

    async def _run_step(self, run: _StepRun, recipe: Recipe, done_slots: set[str]) -> int:
        indices = self._indices(run, done_slots)
        refill_limit = run.size * (recipe.max_attempts + 1) + 100  # never loop forever on a hopeless step

        async def worker() -> None:
            while not self._stop:
                async with run.changed:
                    while run.accepted + run.inflight >= run.size and run.accepted < run.size and not self._stop:
                        await run.changed.wait()
                    if run.accepted >= run.size or self._stop:
                        return
                    index = next(indices, None)
                    if index is None or index > refill_limit:
                        return
                    origin = run.short.popleft() if index >= run.size and run.short else None
                    run.inflight += 1
                ok = False
                task = run.strategy.task(index, run.ctx)
                if origin is not None:
                    task = task.refilling(run.strategy.task(origin, run.ctx))
                try:
                    ok = await self._run_slot(run, task, recipe.max_attempts)
                finally:
                    async with run.changed:
                        run.inflight -= 1
                        run.accepted += int(ok)
                        if not ok and not self._stop and run.strategy.refill:
                            run.short.append(task.index if task.origin is None else task.origin)
                        run.changed.notify_all()

        workers = [asyncio.create_task(worker()) for _ in range(self._client.concurrency)]
        try:
            await asyncio.gather(*workers)
        finally:
            for w in workers:
                w.cancel()
        return run.accepted

    async def _run_slot(self, run: _StepRun, task: Task, max_attempts: int) -> bool:
        for attempt in range(max_attempts):
            if self._stop:
                return False
            try:
                sample = await run.strategy.run(task, attempt, run.ctx)
            except BudgetExceededError as exc:
                self._stop, self._budget_error = "budget_exhausted", str(exc)
                return False
            except PermanentBackendError:
                raise
            except TransientBackendError as exc:
                sample = Sample(text="<no answer>", status="rejected", reason=f"backend error after retries: {exc}")
            if sample.status == "accepted":
                h = text_hash(sample.text)
                if h not in self._hashes:
                    self._hashes.add(h)
                    self._writer.add(sample, task.slot)
                    self._state["done"] += 1
                    self._after_write()
                    return True
                sample = sample.model_copy(
                    update={"status": "rejected", "reason": "exact duplicate of an accepted sample"}
                )
            key = f"{task.attempt_key}:{attempt}"
            if key not in self._reject_slots:
                self._reject_slots.add(key)
                self._writer.add(sample, key)
                self._state["rejected"] += 1
                self._after_write()
        return False

    def _after_write(self) -> None:
        if self.progress:
            self.progress(int(self._state["done"]), self._target, int(self._state["rejected"]))
        now = time.monotonic()
        if len(self._writer) >= self.flush_every or now - self._state["last_flush"] >= self.flush_seconds:
            self._flush()

    def _counts(self) -> dict[str, Any]:
        """The job's running totals, as the store's job row and JobResult name them."""
        a = self._client.accounting
        return {
            "done": int(self._state["done"]),
            "rejected": int(self._state["rejected"]),
            "requests": a.requests,
            "cache_hits": a.cache_hits,
            "prompt_tokens": a.prompt_tokens,
            "completion_tokens": a.completion_tokens,
            "cost": a.cost,
        }

    def _flush(self, **job_values: object) -> None:
        self._writer.flush(**self._counts(), **job_values)
        self._state["last_flush"] = time.monotonic()


async def run_recipe(
    recipe: Recipe,
    store: Store,
    dataset: str,
    *,
    backend: Backend | None = None,
    progress: Progress | None = None,
) -> JobResult:
    """Create a job for the recipe and run it. Builds the backend from the recipe if none is given."""
    return await resume_job(store, create_job(store, recipe, dataset), backend=backend, progress=progress)


async def resume_job(
    store: Store, job_id: int, *, backend: Backend | None = None, progress: Progress | None = None
) -> JobResult:
    """Run a job from where it stopped (or from the start). Builds the backend from the job's
    recipe if none is given, and closes only a backend it built."""
    from sentiforge.backends import from_spec

    owned = backend is None
    backend = backend or from_spec(Recipe.model_validate(store.job(job_id).recipe).backend)
    try:
        return await Engine(store, backend, progress=progress).run(job_id)
    finally:
        if owned:
            await backend.aclose()
