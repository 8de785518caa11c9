"""What the loopback OpenAI-compatible test server answers besides a completion: the faults it
injects (429s, 5xx, timeouts, truncated or malformed bodies), OpenAI-shaped error bodies, and the
record it keeps of each request."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sentiforge.errors import ConfigError

FAULTS = (
    "rate_limit",  # 429 with Retry-After (and rate-limit headers at zero)
    "rate_limit_bare",  # 429 with no hint when to come back
    "server_error",  # 500
    "timeout",  # hang for ``hang`` seconds (longer than the client's timeout), or until the client leaves
    "truncated",  # 200, Content-Length says more than is sent, then the connection closes
    "not_json",  # 200 with an HTML body
    "no_choices",  # 200 with JSON that has no choices
    "empty",  # 200 with an empty completion
    "low_headers",  # 200, valid, but x-ratelimit-remaining-requests: 0
    "bad_request",  # 400
    "unauthorized",  # 401
)


@dataclass(frozen=True)
class Fault:
    """One scripted fault; ``headers`` are added to (or override) the fault's own headers."""

    kind: str
    retry_after: float | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in FAULTS:
            raise ConfigError(f"unknown fault {self.kind!r}; choose one of {list(FAULTS)}")


@dataclass
class RecordedRequest:
    number: int
    body: dict[str, Any] | None
    body_hash: str
    outcome: str = "pending"  # ok, a fault kind, rpm_limited, bad_request
    status: int = 0
    started: float = 0.0
    finished: float = 0.0


def format_duration(seconds: float) -> str:
    """A Go-style duration as OpenAI sends it: "20ms", "1.5s", "6m0s"."""
    if seconds < 1:
        return f"{max(0, round(seconds * 1000))}ms"
    if seconds < 60:
        return f"{seconds:.3f}".rstrip("0").rstrip(".") + "s"
    return f"{int(seconds // 60)}m{seconds % 60:.0f}s"


def merge_headers(headers: dict[str, str], extra: Mapping[str, str]) -> None:
    """Add ``extra`` headers, replacing any of the same name whatever its case. A scripted
    Retry-After (e.g. an HTTP-date) stands alone: it replaces retry-after-ms too."""
    names = {k.lower() for k in extra}
    if "retry-after" in names:
        names.add("retry-after-ms")
    for key in [k for k in headers if k.lower() in names]:
        del headers[key]
    headers.update(extra)


def json_response(payload: bytes, status: int, headers: Mapping[str, str] | None = None) -> Any:
    from starlette.responses import Response

    return Response(payload, status, headers=dict(headers or {}), media_type="application/json")


def error_body(message: str, kind: str, code: str | None = None) -> bytes:
    return json.dumps({"error": {"message": message, "type": kind, "code": code}}).encode()


LOW_HEADERS = {  # what a "low_headers" fault adds: nothing left, one request a second
    "x-ratelimit-limit-requests": "60",
    "x-ratelimit-remaining-requests": "0",
    "x-ratelimit-reset-requests": "1s",
}


class _QuietTruncation(logging.Filter):
    """uvicorn logs an error for the response a "truncated" fault leaves unfinished on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "returned without completing response" not in record.getMessage()


def quiet_uvicorn() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _QuietTruncation) for f in logger.filters):
        logger.addFilter(_QuietTruncation())


class Truncated:
    """A response that promises the whole body and sends half of it, then the server drops
    the connection (the ASGI app returns without finishing the response)."""

    status_code = 200

    def __init__(self, payload: bytes, headers: Mapping[str, str]) -> None:
        self.payload = payload
        self.headers = dict(headers)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        raw = [(b"content-type", b"application/json"), (b"content-length", str(len(self.payload)).encode())]
        raw += [(k.lower().encode(), v.encode()) for k, v in self.headers.items()]
        await send({"type": "http.response.start", "status": 200, "headers": raw})
        await send({"type": "http.response.body", "body": self.payload[: len(self.payload) // 2], "more_body": True})


def unauthorized(given: str) -> Any:

    message = f"Incorrect API key provided: {given or '<none>'}. You can find your API key in your account settings."
    return json_response(error_body(message, "invalid_request_error", "invalid_api_key"), 401)
