"""How the workbench answers: pages rendered by Jinja2 with every value escaped, the headers
every page carries (a strict Content-Security-Policy: scripts and styles only from /static),
and errors as pages (``PageRoute``) rather than the API's JSON."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader
from starlette.exceptions import HTTPException

from sentiforge.api.errors import status_of
from sentiforge.errors import SentiforgeError
from sentiforge.web import TEMPLATES

log = logging.getLogger("sentiforge.api")
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
ENV = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True, lstrip_blocks=True)


def query(**params: Any) -> str:
    """A query string of the parameters that have a value (``?a=1&b=x``), or ``""``."""
    kept = {k: v for k, v in params.items() if v not in (None, "")}
    return "?" + urlencode(kept) if kept else ""


ENV.globals["query"] = query


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page: ``template`` with ``context``, the viewer (when logged in) and the headers."""
    context.setdefault("viewer", getattr(request.state, "viewer", None))
    context.setdefault("path", request.url.path)
    html = ENV.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status_code, headers=HEADERS)


class LoginRequired(Exception):
    """No live session: the page answers with a redirect to the login form."""


def to_login(request: Request) -> RedirectResponse:
    """To the login form, which comes back here: to this page, or for a form posted after the
    session ended, to the page the form was on (never replaying the post)."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET":
        target = request.url.path.rsplit("/", 1)[0] or "/"
    return RedirectResponse("/login" + query(next=target), status_code=303, headers=HEADERS)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return render(request, "error.html", status_code=status, status=status, message=message)


class PageRoute(APIRoute):
    """A workbench route: a missing login redirects to the login form; an error of ours, a
    refused scope or a bad query parameter is a page with the message and its status."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired:
                return to_login(request)
            except SentiforgeError as exc:
                status = status_of(exc)
                message = str(exc) if status < 500 else "the server failed to answer; retry later"
                if status >= 500:
                    log.warning("%s: %s", type(exc).__name__, exc)
                return error_page(request, status, message)
            except HTTPException as exc:
                return error_page(request, exc.status_code, str(exc.detail))
            except RequestValidationError as exc:
                parts = [f"{'.'.join(str(x) for x in p.get('loc', ()))}: {p.get('msg')}" for p in exc.errors()]
                return error_page(request, 422, "; ".join(parts))

        return handle
