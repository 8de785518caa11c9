"""Errors as HTTP answers: each class of the hierarchy gets its status, every answer is JSON
``{"detail": message, "error": kind}`` with a message that says what to do."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from sentiforge import errors as E

log = logging.getLogger("sentiforge.api")

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
    return JSONResponse(error_body(str(exc), type(exc).__name__), status_code=code)


async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = list(exc.errors())
    if any(p.get("type") == "json_invalid" for p in problems):
        where = next(p for p in problems if p.get("type") == "json_invalid")
        message = f"malformed JSON body ({where.get('ctx', {}).get('error', 'cannot parse')}); send a JSON object"
        return JSONResponse(error_body(message, "MalformedJSON"), status_code=400)
    parts = [f"{'.'.join(str(x) for x in p.get('loc', ()))}: {p.get('msg')}" for p in problems]
    details = [{"loc": list(p.get("loc", ())), "msg": p.get("msg"), "type": p.get("type")} for p in problems]
    return JSONResponse(error_body("invalid request: " + "; ".join(parts), "ValidationError", errors=details), 422)


async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return JSONResponse(error_body("internal error; the server log has the details", "InternalError"), 500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(E.SentiforgeError, sentiforge_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, unexpected)
