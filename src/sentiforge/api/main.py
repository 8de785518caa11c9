"""Builds the app: settings, store, model registry, job runner, limits, metrics, routes.

``uvicorn --factory sentiforge.api.main:create_app`` (what ``sentiforge serve`` and
deploy/gunicorn.conf.py run) calls :func:`create_app` once per process.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from sentiforge.api import errors
from sentiforge.api.limits import BodyLimit, CallerRateLimiter
from sentiforge.api.metrics import MetricsMiddleware
from sentiforge.api.routes import ROUTERS
from sentiforge.api.runner import JobRunner
from sentiforge.app import fleet
from sentiforge.app.predict import ModelRegistry
from sentiforge.backends.ratelimit import on_wait
from sentiforge.config import Settings, get_settings
from sentiforge.store import Store

DESCRIPTION = """Labelled sentiment training data from LLMs, as a service: the same operations
as the `sentiforge` command. Every route but /health and /ready needs an API key
(`sentiforge keys create --name NAME --scope read --scope write`), sent as
`Authorization: Bearer TOKEN` or `X-API-Key: TOKEN`."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = Store(settings.database_url, pool_size=settings.db_pool_size)
        app.state.store = store
        app.state.runner = JobRunner(store, settings.max_running_jobs, settings)
        await app.state.runner.startup()
        try:
            yield
        finally:
            await app.state.runner.shutdown()
            store.close()

    app = FastAPI(title="sentiforge", version="1", description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    on_wait(fleet.observe_wait)  # rate-limit waits of the jobs this process runs, as metrics
    from sentiforge.app.drift import DriftWatch

    watch = DriftWatch(settings.drift_window, settings.drift_embedder)
    app.state.registry = ModelRegistry(
        settings.classifiers_dir, settings.default_classifier, watch, base_model_dir=settings.model_dir
    )
    app.state.limiter = CallerRateLimiter(settings.rate_limit_per_minute, settings.redis_url)
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    from fastapi.staticfiles import StaticFiles

    from sentiforge.web import STATIC

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    if origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["*"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type", "Last-Event-ID"],
        )
    app.add_middleware(
        BodyLimit, max_body=int(settings.max_body_mb * 1e6), max_upload=int(settings.max_upload_mb * 1e6)
    )
    app.add_middleware(MetricsMiddleware)
    return app
