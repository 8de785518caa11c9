"""Evaluation reports: the numbers of finished evaluate jobs, and their self-contained HTML report.
Start one with POST /v1/jobs/evaluate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from sentiforge.api.deps import ReadKey, SettingsDep, StoreDep
from sentiforge.api.errors import ERRORS
from sentiforge.api.schemas import Cursor, JobId, Page
from sentiforge.app import jobs
from sentiforge.errors import ConflictError, NotFoundError
from sentiforge.store.schemas import JobPublic

router = APIRouter(prefix="/v1/evaluations", tags=["evaluations"], responses=ERRORS)


@router.get("")
def list_evaluations(
    store: StoreDep,
    _: ReadKey,
    cursor: Cursor = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[JobPublic]:
    """Evaluate jobs (any status); a completed one's ``result`` holds the headline numbers."""
    found = jobs.list_jobs(store, kind="evaluate", after=cursor, limit=limit + 1)
    return Page.of(found, limit)


def _report_dir(store: Any, settings: Any, job_id: int) -> Path:
    job = jobs.get(store, job_id)
    if job.kind != "evaluate":
        raise NotFoundError(f"job {job_id} is a {job.kind} job, not an evaluation")
    if job.status != "completed" or not job.result:
        raise ConflictError(f"evaluation {job_id} is {job.status}: its report exists once it has completed")
    folder = Path(job.result["report_dir"]).resolve()
    if not folder.is_relative_to(Path(settings.reports_dir).resolve()):
        raise NotFoundError(f"evaluation {job_id} wrote its report outside the reports folder; open it on the server")
    return folder


@router.get("/{job_id}")
def get_report(job_id: JobId, store: StoreDep, settings: SettingsDep, _: ReadKey) -> dict[str, Any]:
    """Every number of the report (report.json)."""
    path = _report_dir(store, settings, job_id) / "report.json"
    if not path.is_file():
        raise NotFoundError(f"evaluation {job_id} has no report.json any more (deleted from {path.parent})")
    return json.loads(path.read_text(encoding="utf-8"))


@router.get("/{job_id}/report.html", responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}})
def get_html(job_id: JobId, store: StoreDep, settings: SettingsDep, _: ReadKey) -> HTMLResponse:
    """The self-contained HTML report."""
    path = _report_dir(store, settings, job_id) / "report.html"
    if not path.is_file():
        raise NotFoundError(f"evaluation {job_id} has no report.html any more (deleted from {path.parent})")
    return HTMLResponse(path.read_text(encoding="utf-8"))
