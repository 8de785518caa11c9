"""The review queue (``/review?dataset=NAME``) and the label queue (``/label?pool=NAME``) in the
workbench's layout. Like the drift page they hold no data and are open to all: their scripts
call the API with the key the login left in the tab's sessionStorage (or one typed into the
page's key box), and the API checks it. The header shows who is logged in, if anyone."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from sentiforge.api.workbench.auth import MaybeViewerDep
from sentiforge.api.workbench.render import PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _name(value: str | None) -> str | None:
    """A name from the URL, used only in links (url-encoded) and read again by the script."""
    return value.strip()[:200] or None if value else None


@router.get("/review", response_class=HTMLResponse)
def review_page(request: Request, _: MaybeViewerDep, dataset: str | None = None) -> HTMLResponse:
    return render(request, "review.html", active="review", dataset=_name(dataset))


@router.get("/label", response_class=HTMLResponse)
def label_page(
    request: Request, _: MaybeViewerDep, pool: str | None = None, dataset: str | None = None
) -> HTMLResponse:
    """The nav's links keep the dataset: the pool's, or the one the page was opened with."""
    return render(request, "label.html", active="label", dataset=_name(dataset) or _name(pool))
