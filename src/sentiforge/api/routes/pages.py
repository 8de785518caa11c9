"""The review page (``/review?dataset=NAME``) and the drift page (``/drift?dataset=NAME`` or
``?recipe=NAME``); neither holds data: each asks for an API key and calls the API with it."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from sentiforge.web import TEMPLATES

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/review", response_class=HTMLResponse)
def review_page() -> HTMLResponse:
    return HTMLResponse((TEMPLATES / "review.html").read_text(encoding="utf-8"))


@router.get("/drift", response_class=HTMLResponse)
def drift_page() -> HTMLResponse:
    return HTMLResponse((TEMPLATES / "drift.html").read_text(encoding="utf-8"))
