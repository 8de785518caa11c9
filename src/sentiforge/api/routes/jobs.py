"""Jobs: create (generate, augment, recipe, quality, evaluate, train), list, get, cancel,
resume; events; progress as numbers and as a Server-Sent Events stream."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import StreamingResponse

from sentiforge.api.deps import ReadKey, RunnerDep, SettingsDep, StoreDep, WriteKey
from sentiforge.api.errors import ERRORS
from sentiforge.api.job_events import progress_of, sse_events
from sentiforge.api.schemas import Cursor, FilterText, JobId, JobProgress, Page
from sentiforge.app import confinement, jobs
from sentiforge.app.requests import (
    AugmentRequest,
    EvaluateRequest,
    GenerateRequest,
    QualityRequest,
    RecipeRequest,
    TrainRequest,
)
from sentiforge.names import NAME_PATTERN
from sentiforge.store.schemas import JobEventPublic, JobPublic

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], responses=ERRORS)


def _submit(store: Any, runner: Any, settings: Any, request: Any) -> JobPublic:
    request = confinement.for_service(store, request, settings)
    job_id = jobs.submit(store, request, runtime=settings.runtime())
    runner.start(job_id)
    return jobs.get(store, job_id)


@router.post("/generate", status_code=202)
def generate(
    body: GenerateRequest, store: StoreDep, runner: RunnerDep, settings: SettingsDep, _: WriteKey
) -> JobPublic:
    """Generate a balanced synthetic dataset; the job runs in the background."""
    return _submit(store, runner, settings, body)


@router.post("/augment", status_code=202)
def augment(body: AugmentRequest, store: StoreDep, runner: RunnerDep, settings: SettingsDep, _: WriteKey) -> JobPublic:
    """Augment a real seed dataset (CDA, ADA, CADA, backtranslation, translation)."""
    return _submit(store, runner, settings, body)


@router.post("/recipe", status_code=202)
def recipe(body: RecipeRequest, store: StoreDep, runner: RunnerDep, settings: SettingsDep, _: WriteKey) -> JobPublic:
    """Run a recipe (plain data) into a dataset."""
    return _submit(store, runner, settings, body)


@router.post("/quality", status_code=202)
def quality(body: QualityRequest, store: StoreDep, runner: RunnerDep, settings: SettingsDep, _: WriteKey) -> JobPublic:
    """Run the quality gate over a dataset."""
    return _submit(store, runner, settings, body)


@router.post("/evaluate", status_code=202)
def evaluate(
    body: EvaluateRequest, store: StoreDep, runner: RunnerDep, settings: SettingsDep, _: WriteKey
) -> JobPublic:
    """Train-Synthetic-Test-Real; the report is served by /v1/evaluations/{job_id}."""
    return _submit(store, runner, settings, body)


@router.post("/train", status_code=202)
def train(body: TrainRequest, store: StoreDep, runner: RunnerDep, settings: SettingsDep, _: WriteKey) -> JobPublic:
    """Train a classifier; ``out_dir`` is the model's name, served by /v1/sentiment when done."""
    return _submit(store, runner, settings, body)


@router.get("")
def list_jobs(
    store: StoreDep,
    _: ReadKey,
    status: FilterText = None,
    dataset: Annotated[str | None, Query(pattern=f"{NAME_PATTERN}|^$")] = None,
    kind: FilterText = None,
    cursor: Cursor = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[JobPublic]:
    """Jobs in id order; filter by status, dataset and kind (an empty filter is no filter)."""
    found = jobs.list_jobs(store, status=status, dataset=dataset, kind=kind, after=cursor, limit=limit + 1)
    return Page.of(found, limit)


@router.get("/{job_id}")
def get_job(job_id: JobId, store: StoreDep, _: ReadKey) -> JobPublic:
    return jobs.get(store, job_id)


@router.post("/{job_id}/cancel")
def cancel(job_id: JobId, store: StoreDep, _: WriteKey) -> JobPublic:
    """Stop a job: a queued one at once, a running one at its next checkpoint (409 when finished)."""
    return jobs.cancel(store, job_id)


@router.post("/{job_id}/resume", status_code=202)
def resume(
    job_id: JobId,
    store: StoreDep,
    runner: RunnerDep,
    _: WriteKey,
    max_cost: Annotated[float | None, Body(embed=True, ge=0, allow_inf_nan=False)] = None,
) -> JobPublic:
    """Run a stopped job again from where it stopped (optionally with a new cost cap); a sharded
    job whose workers died gets its unfinished shards sent again."""
    runner.resume(job_id, max_cost)
    return jobs.get(store, job_id)


@router.get("/{job_id}/events")
def events(job_id: JobId, store: StoreDep, _: ReadKey, after: Cursor = 0) -> list[JobEventPublic]:
    """What happened to the job, oldest first (ids above ``after``)."""
    jobs.get(store, job_id)
    return store.job_events(job_id, after=after)


@router.get("/{job_id}/progress")
def progress(job_id: JobId, store: StoreDep, _: ReadKey) -> JobProgress:
    """Progress as numbers: the polling fallback of the event stream."""
    return progress_of(jobs.get(store, job_id))


@router.get(
    "/{job_id}/stream", response_class=StreamingResponse, responses={200: {"content": {"text/event-stream": {}}}}
)
def stream(job_id: JobId, request: Request, store: StoreDep, _: ReadKey) -> StreamingResponse:
    """Server-Sent Events: ``progress`` when the numbers change, each job event by its kind,
    and ``end`` once the job has finished. Reconnect with Last-Event-ID to skip events seen."""
    jobs.get(store, job_id)
    after = (
        int(request.headers.get("last-event-id", "0") or 0) if request.headers.get("last-event-id", "").isdigit() else 0
    )
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(sse_events(store, job_id, after, request), media_type="text/event-stream", headers=headers)
