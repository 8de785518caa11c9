"""Quality over time (the drift page): charts drawn by drift.js from the API's history
routes, with the key the login left in the tab's sessionStorage."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from sentiforge.api.workbench.auth import MaybeViewerDep
from sentiforge.api.workbench.render import PageRoute, render
from sentiforge.names import NAME_PATTERN

router = APIRouter(route_class=PageRoute, include_in_schema=False)
NameQuery = Annotated[str | None, Query(pattern=f"{NAME_PATTERN}|^$")]


@router.get("/drift", response_class=HTMLResponse)
def drift_page(
    request: Request, _: MaybeViewerDep, dataset: NameQuery = None, recipe: NameQuery = None
) -> HTMLResponse:
    """Open to all (it holds no data): the script asks the API, which checks the key; the
    header shows who is logged in, if anyone."""
    return render(request, "drift.html", active="drift", dataset=dataset, recipe=recipe)
