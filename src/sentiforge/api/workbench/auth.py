"""Workbench logins. The login form takes an API key once; the answer is a session cookie
(HttpOnly, SameSite=Strict, Secure over https) standing for that key, so the key never
travels again, never sits in a URL, a page or a log line. Every page checks the key's scopes
as the API does (a read-only key sees a job but cannot cancel it), every form that changes
something carries the session's CSRF token (and a cross-site Origin is refused), and logout
deletes the session. The login form has its own CSRF token, as a cookie and a hidden field."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from starlette.exceptions import HTTPException

from sentiforge.api.deps import SettingsDep, StoreDep, has_scope
from sentiforge.api.workbench.render import HEADERS, LoginRequired, PageRoute, render
from sentiforge.store.schemas import ApiKeyPublic

SESSION_COOKIE = "sentiforge_session"
LOGIN_COOKIE = "sentiforge_login"
HOME = "/datasets"
router = APIRouter(route_class=PageRoute, include_in_schema=False)


@dataclass(frozen=True)
class Viewer:
    """Who looks at a page: the key the session stands for, and the session's CSRF token."""

    key: ApiKeyPublic
    csrf: str

    def can(self, *scopes: str) -> bool:
        return has_scope(self.key, *scopes)

    def need(self, *scopes: str) -> None:
        """403 unless the key holds one of ``scopes`` (the API's own rule and message)."""
        if not self.can(*scopes):
            raise HTTPException(403, f"key '{self.key.name}' lacks the scope this needs: {' or '.join(scopes)}")


async def current_viewer(request: Request, store: StoreDep) -> Viewer:
    """The session's viewer, else LoginRequired; the key's request limit counts page views too."""
    token = request.cookies.get(SESSION_COOKIE)
    session = await run_in_threadpool(store.web_session, token) if token else None
    if session is None:
        raise LoginRequired
    limiter = request.app.state.limiter
    wait = (
        limiter.hit(session.key.key_id)
        if limiter.redis is None
        else await run_in_threadpool(limiter.hit, session.key.key_id)
    )
    if wait:
        raise HTTPException(429, f"request limit reached for key '{session.key.name}'; retry in {wait:.0f} s")
    viewer = Viewer(session.key, session.csrf)
    request.state.viewer = viewer
    return viewer


async def maybe_viewer(request: Request, store: StoreDep) -> Viewer | None:
    """The session's viewer, or None: for a page open to all that shows who is logged in."""
    try:
        return await current_viewer(request, store)
    except (LoginRequired, HTTPException):
        return None


ViewerDep = Annotated[Viewer, Depends(current_viewer)]
MaybeViewerDep = Annotated[Viewer | None, Depends(maybe_viewer)]


def same_origin(request: Request) -> None:
    """403 for a form posted from another site (browsers send Origin with every POST)."""
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != request.headers.get("host", ""):
        raise HTTPException(403, "a form from another site is refused")


def check_csrf(request: Request, viewer: Viewer, sent: str) -> None:
    """403 unless the form carries the session's CSRF token and comes from this site."""
    same_origin(request)
    if not hmac.compare_digest(sent.encode(), viewer.csrf.encode()):
        raise HTTPException(403, "the form's CSRF token is missing or stale; reload the page and try again")


def safe_next(target: str | None) -> str:
    """Where to go after login: a path of this site only (never ``//host``, ``/\\host``, a
    scheme, or characters a browser would strip), else the home page."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return HOME
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in target):
        return HOME
    parts = urlsplit(target)
    return HOME if parts.scheme or parts.netloc else target


def _cookie(response: Response, request: Request, name: str, value: str, max_age: int, path: str = "/") -> None:
    secure = request.url.scheme == "https"
    response.set_cookie(name, value, max_age=max_age, path=path, secure=secure, httponly=True, samesite="strict")


def _login_form(request: Request, next_path: str, status: int = 200, error: str | None = None) -> Response:
    token = secrets.token_urlsafe(32)
    page = render(request, "login.html", status_code=status, csrf=token, next=safe_next(next_path), error=error)
    _cookie(page, request, LOGIN_COOKIE, token, 600, path="/login")
    return page


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    return _login_form(request, next or HOME)


@router.post("/login")
async def login(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    key: Annotated[str, Form(max_length=200)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = HOME,
) -> Response:
    """A key that verifies opens a session; anything else shows the form again (401)."""
    same_origin(request)
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(csrf.encode(), expected.encode()):
        return _login_form(request, next, 403, "the login form expired; enter the key again")
    found = await run_in_threadpool(store.verify_key, key.strip()) if key.strip() else None
    if found is None:
        return _login_form(request, next, 401, "unknown or revoked API key")
    token = await run_in_threadpool(store.open_web_session, found, settings.web_session_hours)
    response = RedirectResponse(safe_next(next), status_code=303, headers=HEADERS)
    _cookie(response, request, SESSION_COOKIE, token, int(settings.web_session_hours * 3600))
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(
    request: Request, store: StoreDep, viewer: ViewerDep, csrf: Annotated[str, Form(max_length=100)] = ""
) -> Response:
    check_csrf(request, viewer, csrf)
    await run_in_threadpool(store.end_web_session, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303, headers=HEADERS)
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=request.url.scheme == "https", httponly=True, samesite="strict"
    )
    return response


@router.get("/")
def home(_: ViewerDep) -> Response:
    return RedirectResponse(HOME, status_code=303, headers=HEADERS)
