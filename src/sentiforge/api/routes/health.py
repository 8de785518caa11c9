"""Liveness and readiness: the only routes that need no key."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from sentiforge.api.deps import SettingsDep, StoreDep

router = APIRouter(tags=["health"])


@router.get("/health")
def health() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@router.get("/ready", responses={503: {"description": "A dependency is down"}})
def ready(store: StoreDep, settings: SettingsDep) -> Any:
    """The database answers, and Redis when one is configured (rate limits, response cache)."""
    checks: dict[str, str] = {}
    try:
        with store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"down: {type(exc).__name__}"
    if settings.redis_url:
        try:
            import redis

            redis.Redis.from_url(settings.redis_url, socket_timeout=1.0, socket_connect_timeout=1.0).ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"down: {type(exc).__name__}"
    if settings.cache_url:  # the response cache in Redis: jobs fail at their start without it
        from sentiforge.backends.redis_cache import RedisCache

        try:
            RedisCache(settings.cache_url).ping().close()
            checks["cache"] = "ok"
        except Exception as exc:
            checks["cache"] = f"down: {type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ready" if ok else "not ready", "checks": checks}, status_code=200 if ok else 503)
