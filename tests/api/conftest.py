"""API fixtures: the real app (lifespan included) over httpx's ASGI transport, on SQLite and on
PostgreSQL, with a key for every scope."""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sentiforge.config import Settings
from sentiforge.store import Store

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
_names = itertools.count()
SCOPES = ("read", "write", "review", "predict", "admin")


def _pg_admin(sql: str) -> None:
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql)  # type: ignore[arg-type]
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL on 127.0.0.1:5432 is not reachable ({exc}); deselect with -m 'not postgres'")


@pytest.fixture(scope="session")
def api_pg_url() -> Iterator[str]:
    name = f"sentiforge_api_{os.getpid()}"
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _pg_admin(f'CREATE DATABASE "{name}"')
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    Store(url).close()
    yield url
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'api.db'}"
    url: str = request.getfixturevalue("api_pg_url")
    from sqlalchemy import text

    with Store(url) as store, store.engine.begin() as conn:
        conn.execute(
            text("TRUNCATE api_keys, job_events, samples, jobs, datasets, response_cache RESTART IDENTITY CASCADE")
        )
    return url


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(
        home=tmp_path / "home",
        database_url=db_url,
        classifiers_dir=tmp_path / "classifiers",
        reports_dir=tmp_path / "reports",
        rate_limit_per_minute=0,
    )


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    with Store(settings.database_url) as s:
        yield s


@pytest.fixture
def tokens(store: Store) -> dict[str, str]:
    """A token per scope, under the scope's name."""
    return {scope: store.create_key(f"{scope}-user", [scope])[1] for scope in SCOPES}


@pytest.fixture(autouse=True)
def _fresh_key_cache() -> None:
    from sentiforge.api import deps

    deps._cache.clear()


@pytest.fixture
def make_client(settings: Settings) -> Callable[..., Any]:
    """``async with make_client(token) as client``: the app started (lifespan) and a client."""
    from contextlib import asynccontextmanager

    from sentiforge.api.main import create_app

    @asynccontextmanager
    async def make(token: str | None = None, app_settings: Settings | None = None) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(app_settings or settings)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers) as client:
                client.app = app  # type: ignore[attr-defined]
                yield client

    return make


@pytest.fixture
async def admin(make_client: Callable[..., Any], tokens: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(tokens["admin"]) as client:
        yield client


async def wait_job(client: httpx.AsyncClient, job_id: int, timeout: float = 60.0) -> dict[str, Any]:
    """Poll until the job has finished and its runner task is gone."""
    runner = client.app.state.runner  # type: ignore[attr-defined]
    for _ in range(int(timeout / 0.05)):
        gone = job_id not in runner.tasks  # before the read: the task writes the job's summary last
        job = (await client.get(f"/v1/jobs/{job_id}")).json()
        if gone and job["status"] not in ("queued", "running"):
            return job  # type: ignore[no-any-return]
        await asyncio.sleep(0.05)
    raise AssertionError(f"job {job_id} still {job['status']} after {timeout} s")


SEEDS_CSV = "text,label\n" + "\n".join(
    f"{t},{label}"
    for label, words in {
        "positive": ["great service", "loved it", "wonderful staff", "excellent support", "very happy"],
        "negative": ["awful wait", "terrible app", "rude agent", "hated it", "very angry"],
        "neutral": ["it arrived", "the office opens at nine", "order placed", "I called today", "the box is blue"],
    }.items()
    for i, t in enumerate(f"{w} number {n}" for w in words for n in range(2))
)
