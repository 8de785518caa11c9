"""Jobs, for every caller: create, run, resume, cancel and inspect.

The CLI, the HTTP API and the workers all come through here, so a job made by one can be
run, watched or cancelled by another process. Running claims the job in the store first
(see :mod:`sentiforge.store.jobs`): two processes never run the same job.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, cast

from sentiforge.config import DEFAULT_RUNTIME, Runtime
from sentiforge.engine import JobResult, run_job
from sentiforge.engine.plan import UnusedAttributeWarning, step_sizes
from sentiforge.errors import ConfigError, JobConflictError
from sentiforge.progress import OnProgress
from sentiforge.recipe import MAX_COUNT, Recipe
from sentiforge.store import Store
from sentiforge.store.schemas import JobPublic

if TYPE_CHECKING:
    from sentiforge.app.requests import JobRequest
    from sentiforge.app.tasks import TaskRequest
    from sentiforge.backends.base import Backend


def create_job(
    store: Store,
    recipe: Recipe,
    dataset: str,
    *,
    exist_ok: bool = True,
    kind: str = "recipe",
    request: dict[str, Any] | None = None,
) -> int:
    """Register a job (and its synthetic dataset) for a recipe; returns the job id.

    The plan is checked here, before anything runs: strategies are built from their options,
    the prompt templates are found, and prompt attributes that no template reads are warned about.
    """
    try:
        return _create_job(store, recipe, dataset, exist_ok=exist_ok, kind=kind, request=request)
    except (ValueError, TypeError, KeyError) as exc:  # a recipe whose plan cannot be built
        raise ConfigError(f"invalid recipe: {type(exc).__name__}: {exc}") from exc


def _create_job(
    store: Store, recipe: Recipe, dataset: str, *, exist_ok: bool, kind: str, request: dict[str, Any] | None
) -> int:
    scheme = recipe.label_scheme()
    _check_templates(recipe)
    target = sum(step_sizes(store, recipe, warn=True))
    if target > MAX_COUNT:
        raise ConfigError(f"the recipe plans {target:,} samples; a job holds at most {MAX_COUNT:,}")
    # the plan holds: the dataset (unless it exists) and the job are made together, or neither
    return store.create_job_in(
        dataset, scheme.model_dump(mode="json"), recipe.dump(), target, kind=kind, request=request, exist_ok=exist_ok
    )


def _check_templates(recipe: Recipe) -> None:
    from pathlib import Path

    if recipe.templates and not Path(recipe.templates).is_dir():
        raise ConfigError(
            f"templates folder {recipe.templates} does not exist; `sentiforge templates copy DIR` makes one to edit"
        )


def runs_on_engine(kind: str) -> bool:
    """The one dispatch by job kind: generation kinds (generate, augment, recipe) run slot by
    slot on the engine (resumable, shardable across workers); quality, evaluate, train and
    build are one application-layer call each (:mod:`sentiforge.app.tasks`)."""
    from sentiforge.app import tasks

    return kind not in tasks.KINDS


def submit(store: Store, request: JobRequest | TaskRequest, *, runtime: Runtime = DEFAULT_RUNTIME) -> int:
    """Create the job a request describes, whatever its kind (it is not run yet); returns the job id.
    A generation job's recipe takes the configured templates folder (``runtime``) unless its
    request names one."""
    from sentiforge.app import tasks
    from sentiforge.app.requests import kind_of

    kind = kind_of(request)
    if not runs_on_engine(kind):
        return tasks.submit(store, cast("TaskRequest", request))
    generation = cast("JobRequest", request)
    recipe = generation.to_recipe(store, templates_dir=runtime.templates_dir)
    return create_job(store, recipe, generation.dataset, kind=kind, request=request.model_dump(mode="json"))


async def execute(
    store: Store,
    job_id: int,
    *,
    progress: OnProgress | None = None,
    runtime: Runtime = DEFAULT_RUNTIME,
    **options: Any,
) -> str:
    """Run any job to its end, whatever its kind (:func:`runs_on_engine`), with "started" and
    "finished" events; returns its final status."""
    from sentiforge.app import tasks

    job = store.job(job_id)
    if not runs_on_engine(job.kind):
        return await tasks.run_task(store, job_id, progress=progress, runtime=runtime)
    try:
        result = await run(store, job_id, progress=progress, runtime=runtime, **options)
    except JobConflictError:
        raise
    except BaseException as exc:
        store.add_job_event(job_id, "finished", status=store.job(job_id).status, error=str(exc) or type(exc).__name__)
        raise
    store.add_job_event(job_id, "finished", status=result.status, done=result.done, error=result.error)
    return result.status


def requeue(store: Store, job_id: int) -> JobPublic:
    """Make a stopped job (crash, cancel, budget) runnable again, before running it: a start
    asked earlier and still waiting for a slot runs it too, a cancel after this stops it again.
    JobConflictError for a job that is running or completed."""
    return store.requeue_job(job_id)


async def run(
    store: Store,
    job_id: int,
    *,
    backend: Backend | None = None,
    progress: OnProgress | None = None,
    runtime: Runtime = DEFAULT_RUNTIME,
    **engine_options: Any,
) -> JobResult:
    """Claim the job and run it from where it stopped (JobConflictError if it runs elsewhere).
    The backend is rebuilt from the job's recipe unless one is given. The finished job gets
    its summary (app/summaries.py): the n-gram measures at once, the embedding ones after."""
    from sentiforge.app.summaries import summarise_job_soon

    result = await run_job(store, job_id, backend=backend, progress=progress, runtime=runtime, **engine_options)
    await asyncio.to_thread(summarise_job_soon, store, job_id, runtime.drift_embedder)
    return result


async def run_recipe(
    recipe: Recipe,
    store: Store,
    dataset: str,
    *,
    backend: Backend | None = None,
    progress: OnProgress | None = None,
) -> JobResult:
    """Create a job for the recipe and run it."""
    return await run(store, create_job(store, recipe, dataset), backend=backend, progress=progress)


async def resume_job(
    store: Store, job_id: int, *, backend: Backend | None = None, progress: OnProgress | None = None
) -> JobResult:
    """Run a job that stopped (crash, Ctrl-C, cancel, budget): filled slots are kept (a
    completed one runs nothing)."""
    if store.job(job_id).status != "completed":
        await asyncio.to_thread(requeue, store, job_id)
    return await run(store, job_id, backend=backend, progress=progress)


def run_sync(store: Store, job_id: int, **options: Any) -> JobResult:
    """:func:`run` for callers without an event loop (the CLI, a worker process)."""
    return asyncio.run(run(store, job_id, **options))


def set_budget(store: Store, job_id: int, max_cost: float) -> JobPublic:
    """Give a stopped job a new cost cap (kept in its recipe, so every later run obeys it)."""
    job = store.job(job_id)
    recipe = Recipe.model_validate(job.recipe).model_copy(update={"max_cost": max_cost})
    store.update_job(job_id, recipe=recipe.dump())
    return store.job(job_id)


def cancel(store: Store, job_id: int) -> JobPublic:
    """Stop a job: a running one at its next slot boundary (from any process), a waiting one
    at once. Samples made so far stay; ``resume`` finishes it later."""
    return store.request_cancel(job_id)


def get(store: Store, job_id: int) -> JobPublic:
    return store.job(job_id)


def list_jobs(
    store: Store,
    *,
    status: str | None = None,
    dataset: str | None = None,
    kind: str | None = None,
    after: int = 0,
    limit: int | None = None,
) -> list[JobPublic]:
    """Jobs in id order, filtered by status, dataset and kind (an empty filter is no filter);
    a page when ``limit`` is given."""
    from sentiforge.store.jobs import STATUSES

    status, kind = status or None, kind or None
    if status is not None and status not in STATUSES:
        raise ConfigError(f"unknown job status {status!r}; choose one of {list(STATUSES)}")
    dataset_id = store.dataset_id(dataset) if dataset else None
    return store.list_jobs(status=status, dataset_id=dataset_id, kind=kind, after=after, limit=limit)


def reclaim(store: Store) -> list[int]:
    """Mark jobs whose process died while running as ``incomplete`` (resumable); their ids.
    A sharded job is left to its shards: :func:`sentiforge.app.shards.sweep` sends again those
    whose worker died."""
    return store.reclaim_dead_jobs()


async def wait(store: Store, job_id: int, *, statuses: tuple[str, ...] = ("running",), poll: float = 0.2) -> JobPublic:
    """Poll until the job's status leaves ``statuses`` (for callers that watch another process)."""
    while (job := store.job(job_id)).status in statuses:
        await asyncio.sleep(poll)
    return job


__all__ = [
    "UnusedAttributeWarning",
    "cancel",
    "create_job",
    "execute",
    "get",
    "list_jobs",
    "reclaim",
    "requeue",
    "resume_job",
    "run",
    "run_recipe",
    "run_sync",
    "set_budget",
    "submit",
    "wait",
]
