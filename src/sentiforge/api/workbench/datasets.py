"""Workbench pages of datasets: the list, and one dataset's counts with a sample browser
(filters, text search, paging by cursor with a trail of the pages before)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from sentiforge.api.deps import StoreDep
from sentiforge.api.schemas import Cursor, NamePath
from sentiforge.api.workbench.auth import ViewerDep
from sentiforge.api.workbench.render import PageRoute, render
from sentiforge.app import data, jobs
from sentiforge.store.schemas import SampleFilter

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PAGE_SIZE = 25
Trail = Annotated[str, Query(max_length=2000, pattern=r"^[0-9,]*$")]


@router.get("/datasets", response_class=HTMLResponse)
def datasets_page(request: Request, store: StoreDep, viewer: ViewerDep) -> HTMLResponse:
    viewer.need("read")
    return render(request, "datasets.html", active="datasets", datasets=store.list_datasets(counts=True))


@router.get("/datasets/{name}", response_class=HTMLResponse)
def dataset_page(
    request: Request,
    name: NamePath,
    store: StoreDep,
    viewer: ViewerDep,
    where: Annotated[SampleFilter, Query()],
    cursor: Cursor = 0,
    trail: Trail = "",
    limit: Annotated[int, Query(ge=1, le=200)] = PAGE_SIZE,
) -> HTMLResponse:
    """The overview, the jobs on the dataset, and one page of samples. ``trail`` lists the
    cursors of the pages before this one, so "previous" needs no backwards query."""
    viewer.need("read")
    overview = data.dataset_overview(store, name)
    found = data.browse_samples(store, name, where, after=cursor, limit=limit + 1)
    before = [int(c) for c in trail.split(",") if c][-100:]
    filters = where.model_dump(exclude_defaults=True)
    return render(
        request,
        "dataset.html",
        active="datasets",
        dataset=name,
        overview=overview,
        filters=filters,
        where=where,
        samples=found[:limit],
        next_cursor=found[limit - 1].id if len(found) > limit else None,
        cursor=cursor,
        trail=before,
        limit=limit,
        jobs=jobs.list_jobs(store, dataset=name, limit=20),
    )
