"""Errors as HTTP answers: each class of the hierarchy gets its status, every answer is JSON
``{"detail": message, "error": kind}`` with a message that says what to do: ours, the
framework's (401, 403, 404 for an unknown path, 405, 413, 429, 400 for a body that does not
decode) and the unexpected alike. A database failure never shows its SQL or its parameters."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from sentiforge import errors as E
from sentiforge.api.schemas import ErrorOut
from sentiforge.backend_spec import FOREIGN_FIELD

log = logging.getLogger("sentiforge.api")

# what every router documents it may answer besides success (the OpenAPI ``responses``)
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut} for code in (400, 401, 403, 404, 409, 413, 422, 429)
}

# most specific first: the first class an error is an instance of decides
STATUS: tuple[tuple[type[Exception], int], ...] = (
    (E.NotFoundError, 404),
    (E.ConflictError, 409),
    (E.MissingExtraError, 501),
    (E.ConfigError, 422),
    (E.LabelError, 422),
    (E.DataError, 422),
    (E.TemplateError, 422),
    (E.QualityError, 422),
    (E.BudgetExceededError, 402),
    (E.BackendError, 502),
    (E.StoreError, 503),
)


def status_of(exc: Exception) -> int:
    return next((code for cls, code in STATUS if isinstance(exc, cls)), 400)


def error_body(message: str, kind: str, **extra: Any) -> dict[str, Any]:
    return {"detail": message, "error": kind, **extra}


async def sentiforge_error(_request: Request, exc: Exception) -> JSONResponse:
    code = status_of(exc)
    if code >= 500:
        log.warning("%s: %s", type(exc).__name__, exc)
    if code == 503:  # the database's own message may quote a statement and its parameters
        message = "the database failed to answer; retry later (the server log has the details)"
        return JSONResponse(error_body(message, type(exc).__name__), status_code=code)
    return JSONResponse(error_body(str(exc), type(exc).__name__), status_code=code)


def _kind(exc: HTTPException) -> str:
    """``BodyTooLarge`` for our subclasses, else the status in words: ``Unauthorized``, ``NotFound``."""
    if type(exc).__name__ != "HTTPException":  # starlette's or fastapi's
        return type(exc).__name__
    try:
        return "".join(HTTPStatus(exc.status_code).phrase.title().split())
    except ValueError:
        return "HTTPError"


async def http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 400 and detail == "There was an error parsing the body":
        detail = "the body could not be read (send UTF-8 JSON, or a form for uploads)"
    return JSONResponse(error_body(detail, _kind(exc)), status_code=exc.status_code, headers=exc.headers)


async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = list(exc.errors())
    if any(p.get("type") == "json_invalid" for p in problems):
        where = next(p for p in problems if p.get("type") == "json_invalid")
        message = f"malformed JSON body ({where.get('ctx', {}).get('error', 'cannot parse')}); send a JSON object"
        return JSONResponse(error_body(message, "MalformedJSON"), status_code=400)
    parts = [f"{'.'.join(str(x) for x in p.get('loc', ()))}: {p.get('msg')}" for p in problems]
    details = [{"loc": list(p.get("loc", ())), "msg": p.get("msg"), "type": p.get("type")} for p in problems]
    # a backend spec naming another kind's field is a configuration mistake, as the CLI calls it
    kind = "ConfigError" if all(p.get("type") == FOREIGN_FIELD for p in problems) else "ValidationError"
    return JSONResponse(error_body("invalid request: " + "; ".join(parts), kind, errors=details), 422)


async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return JSONResponse(error_body("internal error; the server log has the details", "InternalError"), 500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(E.SentiforgeError, sentiforge_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, unexpected)
