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


def get_store(request: Request) -> Store:
    return request.app.state.store


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_registry(request: Request) -> ModelRegistry:
    return request.app.state.registry


def get_runner(request: Request) -> JobRunner:
    return request.app.state.runner


StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
RegistryDep = Annotated[ModelRegistry, Depends(get_registry)]
RunnerDep = Annotated[JobRunner, Depends(get_runner)]


def _verify(store: Store, token: str) -> ApiKeyPublic | None:
    digest = hashlib.sha256(token.encode()).hexdigest()
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(digest)
        if hit and hit[0] > now:
            return hit[1]
    key = store.verify_key(token)
    with _cache_lock:
        if len(_cache) > 10_000:
            _cache.clear()
        _cache[digest] = (now + KEY_CACHE_SECONDS, key)
    return key


def current_key(
    request: Request,
    store: StoreDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header: Annotated[str | None, Depends(_header)],
) -> ApiKeyPublic:
    token = bearer.credentials if bearer else header
    if not token:
        raise HTTPException(
            401,
            "an API key is needed: send 'Authorization: Bearer TOKEN' (`sentiforge keys create`)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    key = _verify(store, token)
    if key is None:
        raise HTTPException(401, "unknown or revoked API key", headers={"WWW-Authenticate": "Bearer"})
    wait = request.app.state.limiter.hit(key.key_id)
    if wait:
        from sentiforge.api.metrics import RATE_LIMITED

        RATE_LIMITED.inc()
        raise HTTPException(
            429,
            f"request limit reached for key '{key.name}'; retry in {wait:.0f} s",
            headers={"Retry-After": str(int(wait))},
        )
    return key


class Scope:
    """A dependency that lets a request through when its key holds one of ``scopes``."""

    def __init__(self, *scopes: str) -> None:
        self.scopes = scopes

    def __call__(self, key: Annotated[ApiKeyPublic, Depends(current_key)]) -> ApiKeyPublic:
        if "admin" in key.scopes or any(s in key.scopes for s in self.scopes):
            return key
        raise HTTPException(403, f"key '{key.name}' lacks the scope this needs: {' or '.join(self.scopes)}")


ReadKey = Annotated[ApiKeyPublic, Depends(Scope("read"))]
WriteKey = Annotated[ApiKeyPublic, Depends(Scope("write"))]
PredictKey = Annotated[ApiKeyPublic, Depends(Scope("predict"))]
ModelsKey = Annotated[ApiKeyPublic, Depends(Scope("predict", "read"))]
AdminKey = Annotated[ApiKeyPublic, Depends(Scope("admin"))]
