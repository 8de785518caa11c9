"""The review page (``/review?dataset=NAME``) and the label queue (``/label?pool=NAME&model=NAME``):
neither holds data, each asks for an API key and calls the API with it. The workbench's other
pages are in ``api/workbench``."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from sentiforge.web import TEMPLATES

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/review", response_class=HTMLResponse)
def review_page() -> HTMLResponse:
    return HTMLResponse((TEMPLATES / "review.html").read_text(encoding="utf-8"))


@router.get("/label", response_class=HTMLResponse)
def label_page() -> HTMLResponse:
    return HTMLResponse((TEMPLATES / "label.html").read_text(encoding="utf-8"))
