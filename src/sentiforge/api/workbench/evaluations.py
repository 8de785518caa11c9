"""Workbench pages of evaluations: the evaluate jobs, and a completed one's HTML report.

The report is served as it was written, but sandboxed (no script runs, no request leaves, it
cannot reach the workbench's cookies): it quotes texts and names from the data."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from sentiforge.api.deps import SettingsDep, StoreDep
from sentiforge.api.schemas import Cursor, JobId
from sentiforge.api.workbench.auth import ViewerDep
from sentiforge.api.workbench.render import HEADERS, PageRoute, render
from sentiforge.app import evaluations, jobs

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PAGE_SIZE = 50
REPORT_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"


@router.get("/evaluations", response_class=HTMLResponse)
def evaluations_page(request: Request, store: StoreDep, viewer: ViewerDep, cursor: Cursor = 0) -> HTMLResponse:
    viewer.need("read")
    found = jobs.list_jobs(store, kind="evaluate", after=cursor, limit=PAGE_SIZE + 1)
    return render(
        request,
        "evaluations.html",
        active="evaluations",
        evaluations=found[:PAGE_SIZE],
        next_cursor=found[PAGE_SIZE - 1].id if len(found) > PAGE_SIZE else None,
    )


@router.get("/evaluations/{job_id}/report", response_class=HTMLResponse)
def report_page(
    request: Request, job_id: JobId, store: StoreDep, settings: SettingsDep, viewer: ViewerDep
) -> HTMLResponse:
    viewer.need("read")
    path = evaluations.report_file(store, settings.reports_dir, job_id, "report.html")
    headers = {**HEADERS, "Content-Security-Policy": REPORT_CSP}
    return HTMLResponse(path.read_text(encoding="utf-8"), headers=headers)
