"""Evaluation reports: the numbers of finished evaluate jobs, and their self-contained HTML report.
Start one with POST /v1/jobs/evaluate."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from sentiforge.api.deps import ReadKey, SettingsDep, StoreDep
from sentiforge.api.errors import ERRORS
from sentiforge.api.schemas import Cursor, JobId, Page
from sentiforge.app import evaluations, jobs
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


@router.get("/{job_id}")
def get_report(job_id: JobId, store: StoreDep, settings: SettingsDep, _: ReadKey) -> dict[str, Any]:
    """Every number of the report (report.json)."""
    path = evaluations.report_file(store, settings.reports_dir, job_id, "report.json")
    return json.loads(path.read_text(encoding="utf-8"))


@router.get("/{job_id}/report.html", responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}})
def get_html(job_id: JobId, store: StoreDep, settings: SettingsDep, _: ReadKey) -> HTMLResponse:
    """The self-contained HTML report."""
    path = evaluations.report_file(store, settings.reports_dir, job_id, "report.html")
    return HTMLResponse(path.read_text(encoding="utf-8"))
