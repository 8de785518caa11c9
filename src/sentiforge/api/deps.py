"""Annotated dependencies: the store, the settings, the model registry, the job runner, and
the caller's key with the scope a route needs.

A key comes as ``Authorization: Bearer TOKEN`` or ``X-API-Key: TOKEN``. No key (or an
unknown or revoked one) is 401, a key without the route's scope 403, a key over its request
limit 429 with Retry-After. The admin scope holds every other one. A verified key is cached
for ``KEY_CACHE_SECONDS``, so a revoked key is refused within that time.
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from sentiforge.api.runner import JobRunner
from sentiforge.app.predict import ModelRegistry
from sentiforge.config import Settings
from sentiforge.store import Store
from sentiforge.store.schemas import ApiKeyPublic

KEY_CACHE_SECONDS = 5.0

_bearer = HTTPBearer(auto_error=False, description="An API key made by `sentiforge keys create`")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="The same key, in a header of its own")
_cache: dict[str, tuple[float, ApiKeyPublic | None]] = {}
_cache_lock = threading.Lock()


async def get_store(request: Request) -> Store:
    return request.app.state.store


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_registry(request: Request) -> ModelRegistry:
    return request.app.state.registry


async def get_runner(request: Request) -> JobRunner:
    return request.app.state.runner


StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
RegistryDep = Annotated[ModelRegistry, Depends(get_registry)]
RunnerDep = Annotated[JobRunner, Depends(get_runner)]


def _cached(digest: str) -> tuple[bool, ApiKeyPublic | None]:
    with _cache_lock:
        hit = _cache.get(digest)
    if hit and hit[0] > time.monotonic():
        return True, hit[1]
    return False, None


async def _verify(store: Store, token: str) -> ApiKeyPublic | None:
    """The key behind a token: from the cache, else from the store (in a worker thread: the
    only blocking step, once per key and ``KEY_CACHE_SECONDS``)."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    found, key = _cached(digest)
    if found:
        return key
    key = await run_in_threadpool(store.verify_key, token)
    with _cache_lock:
        if len(_cache) > 10_000:
            _cache.clear()
        _cache[digest] = (time.monotonic() + KEY_CACHE_SECONDS, key)
    return key


async def current_key(
    request: Request,
    store: StoreDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header: Annotated[str | None, Depends(_header)],
) -> ApiKeyPublic:
    """Async, so a request with a cached key costs no thread hop; the store and Redis (both
    blocking) are called in worker threads."""
    token = bearer.credentials if bearer else header
    if not token:
        raise HTTPException(
            401,
            "an API key is needed: send 'Authorization: Bearer TOKEN' (`sentiforge keys create`)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    key = await _verify(store, token)
    if key is None:
        raise HTTPException(401, "unknown or revoked API key", headers={"WWW-Authenticate": "Bearer"})
    limiter = request.app.state.limiter
    wait = limiter.hit(key.key_id) if limiter.redis is None else await run_in_threadpool(limiter.hit, key.key_id)
    if wait:
        from sentiforge.api.metrics import RATE_LIMITED

        RATE_LIMITED.inc()
        raise HTTPException(
            429,
            f"request limit reached for key '{key.name}'; retry in {wait:.0f} s",
            headers={"Retry-After": str(int(wait))},
        )
    return key


def has_scope(key: ApiKeyPublic, *scopes: str) -> bool:
    """Whether ``key`` holds one of ``scopes`` (admin holds them all): the API's and the
    workbench's one rule."""
    return "admin" in key.scopes or any(s in key.scopes for s in scopes)


class Scope:
    """A dependency that lets a request through when its key holds one of ``scopes``."""

    def __init__(self, *scopes: str) -> None:
        self.scopes = scopes

    async def __call__(self, key: Annotated[ApiKeyPublic, Depends(current_key)]) -> ApiKeyPublic:
        if has_scope(key, *self.scopes):
            return key
        raise HTTPException(403, f"key '{key.name}' lacks the scope this needs: {' or '.join(self.scopes)}")


ReadKey = Annotated[ApiKeyPublic, Depends(Scope("read"))]
WriteKey = Annotated[ApiKeyPublic, Depends(Scope("write"))]
PredictKey = Annotated[ApiKeyPublic, Depends(Scope("predict"))]
ModelsKey = Annotated[ApiKeyPublic, Depends(Scope("predict", "read"))]
AdminKey = Annotated[ApiKeyPublic, Depends(Scope("admin"))]
