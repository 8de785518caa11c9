"""Workbench pages of jobs: the list, one job with its live progress (the API's event
stream, read with the session cookie), its events, spend, and cancel / resume buttons for a
key with the write scope."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse

from sentiforge.api.deps import RunnerDep, StoreDep
from sentiforge.api.job_events import sse_events
from sentiforge.api.schemas import Cursor, FilterText, JobId
from sentiforge.api.workbench.auth import ViewerDep, check_csrf
from sentiforge.api.workbench.render import HEADERS, PageRoute, render
from sentiforge.app import jobs
from sentiforge.names import NAME_PATTERN
from sentiforge.store.jobs import FINISHED, STATUSES

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PAGE_SIZE = 50
CANCELLABLE = ("queued", "running")
RESUMABLE = ("incomplete", "failed", "cancelled", "budget_stopped")


@router.get("/jobs", response_class=HTMLResponse)
def jobs_page(
    request: Request,
    store: StoreDep,
    viewer: ViewerDep,
    status: FilterText = None,
    dataset: Annotated[str | None, Query(pattern=f"{NAME_PATTERN}|^$")] = None,
    kind: FilterText = None,
    cursor: Cursor = 0,
) -> HTMLResponse:
    viewer.need("read")
    found = jobs.list_jobs(store, status=status, dataset=dataset, kind=kind, after=cursor, limit=PAGE_SIZE + 1)
    names = {d.id: d.name for d in store.list_datasets()}
    return render(
        request,
        "jobs.html",
        active="jobs",
        jobs=found[:PAGE_SIZE],
        names=names,
        next_cursor=found[PAGE_SIZE - 1].id if len(found) > PAGE_SIZE else None,
        filters={"status": status or "", "dataset": dataset or "", "kind": kind or ""},
        statuses=STATUSES,
        dataset=dataset,
    )


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, job_id: JobId, store: StoreDep, viewer: ViewerDep) -> HTMLResponse:
    viewer.need("read")
    job = jobs.get(store, job_id)
    dataset = store.dataset(job.dataset_id).name if job.dataset_id is not None else None
    return render(
        request,
        "job.html",
        active="jobs",
        job=job,
        dataset=dataset,
        events=store.job_events(job_id),
        live=job.status not in FINISHED or job_id in request.app.state.runner.tasks,
        cancellable=job.status in CANCELLABLE,
        resumable=job.status in RESUMABLE,
    )


@router.get("/jobs/{job_id}/stream")
def job_stream(request: Request, job_id: JobId, store: StoreDep, viewer: ViewerDep) -> StreamingResponse:
    """The API's event stream, each job event sent as ``job`` (its kind is in its data), so a
    page need not know every kind there is; ``progress`` and ``end`` as they are."""
    viewer.need("read")
    jobs.get(store, job_id)

    async def relabelled() -> AsyncIterator[str]:
        async for chunk in sse_events(store, job_id, 0, request):
            if chunk.startswith("id: "):
                head, _, rest = chunk.partition("\nevent: ")
                chunk = f"{head}\nevent: job\n{rest.partition(chr(10))[2]}"
            yield chunk

    headers = {**HEADERS, "X-Accel-Buffering": "no"}
    return StreamingResponse(relabelled(), media_type="text/event-stream", headers=headers)


@router.post("/jobs/{job_id}/cancel")
def cancel_job(
    request: Request, job_id: JobId, store: StoreDep, viewer: ViewerDep, csrf: Annotated[str, Form(max_length=100)] = ""
) -> RedirectResponse:
    check_csrf(request, viewer, csrf)
    viewer.need("write")
    jobs.cancel(store, job_id)
    return RedirectResponse(f"/jobs/{job_id}", status_code=303, headers=HEADERS)


@router.post("/jobs/{job_id}/resume")
def resume_job(
    request: Request,
    job_id: JobId,
    store: StoreDep,
    runner: RunnerDep,
    viewer: ViewerDep,
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> RedirectResponse:
    check_csrf(request, viewer, csrf)
    viewer.need("write")
    runner.resume(job_id)
    return RedirectResponse(f"/jobs/{job_id}", status_code=303, headers=HEADERS)
