"""Request limits: body size (413) for every route, and requests per key and minute (429).

The rate limit is a fixed one-minute window per key. With ``SENTIFORGE_REDIS_URL`` the
counts live in Redis, so every Gunicorn worker (and every server) shares them; without it
each process counts for itself (so N workers allow up to N times the limit).
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UPLOAD_SUFFIX = "/import"


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body larger than {limit / 1e6:g} MB; send less (the limit is a setting)")


class BodyLimit:
    """Refuse bodies over the limit: at once from Content-Length, else while they stream in."""

    def __init__(self, app: ASGIApp, *, max_body: int, max_upload: int) -> None:
        self.app, self.max_body, self.max_upload = app, max_body, max_upload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_upload if scope["path"].endswith(UPLOAD_SUFFIX) else self.max_body
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await _refuse(send, limit)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)
            return message

        await self.app(scope, counted, send)


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps({"detail": BodyTooLarge(limit).detail, "error": "BodyTooLarge"}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class CallerRateLimiter:
    """``hit(key)`` counts one request; returns 0 when allowed, else the seconds to wait."""

    def __init__(self, per_minute: int, redis_url: str = "") -> None:
        self.per_minute = per_minute
        self.redis: Any = None
        if redis_url and per_minute:
            import redis

            self.redis = redis.Redis.from_url(redis_url, socket_timeout=1.0)
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> float:
        if not self.per_minute:
            return 0.0
        now = time.time()
        window = int(now // 60)
        count = self._redis_hit(key, window) if self.redis is not None else self._local_hit(key, window)
        return 0.0 if count <= self.per_minute else max(1.0, (window + 1) * 60 - now)

    def _local_hit(self, key: str, window: int) -> int:
        with self._lock:
            if len(self._counts) > 10_000:  # forget old windows
                self._counts = {k: v for k, v in self._counts.items() if k[1] == window}
            n = self._counts.get((key, window), 0) + 1
            self._counts[(key, window)] = n
        return n

    def _redis_hit(self, key: str, window: int) -> int:
        name = f"sentiforge:rate:{key}:{window}"
        pipe = self.redis.pipeline()
        pipe.incr(name)
        pipe.expire(name, 120)
        return int(pipe.execute()[0])
