"""The review page (``/review?dataset=NAME``): it holds no data, it asks for an API key and
calls the API with it. The workbench's other pages are in ``api/workbench``."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from sentiforge.web import TEMPLATES

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/review", response_class=HTMLResponse)
def review_page() -> HTMLResponse:
    return HTMLResponse((TEMPLATES / "review.html").read_text(encoding="utf-8"))
