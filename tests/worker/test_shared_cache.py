"""The Redis response cache across worker processes: a second sharded job asking the same
requests is answered from Redis by the workers and sends nothing to the server."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from sentiforge.app import jobs
from sentiforge.recipe import BackendSpec, Recipe, StepSpec
from sentiforge.store import Store
from sentiforge.store.tables import CacheRow

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]
CACHE = "redis://127.0.0.1:6379/7"


def _finish(store: Store, job_id: int) -> Any:
    deadline = time.monotonic() + 180
    while store.job(job_id).status == "running" and time.monotonic() < deadline:
        time.sleep(0.2)
    return store.job(job_id)


def test_a_second_job_on_the_workers_pays_nothing(
    worker_env: dict[str, str], start_worker: Callable[[str], Any]
) -> None:
    import redis

    from sentiforge.testing.server import OpenAITestServer
    from sentiforge.worker.tasks import dispatch

    worker_env["SENTIFORGE_CACHE_URL"] = CACHE
    with (
        OpenAITestServer(model=f"m-{uuid.uuid4().hex}") as server,
        Store(worker_env["SENTIFORGE_DATABASE_URL"]) as store,
    ):
        spec = BackendSpec(kind="openai", base_url=server.base_url, model="test", concurrency=4)
        recipe = Recipe(backend=spec, steps=[StepSpec(params={"count": 300})])
        start_worker("a"), start_worker("b")
        first = jobs.create_job(store, recipe, "first")
        dispatch(store, first, shard_size=100)
        assert (_finish(store, first).status, store.job(first).done) == ("completed", 300)
        paid = len(server.requests)
        second = jobs.create_job(store, recipe, "second")
        dispatch(store, second, shard_size=100)
        job = _finish(store, second)
        assert (job.status, job.done, job.requests) == ("completed", 300, 0), job.error
        assert job.cache_hits == paid and len(server.requests) == paid  # the workers paid nothing again
        with store.session() as s:
            assert s.scalar(select(func.count()).select_from(CacheRow)) == 0  # Redis, not the database
    client = redis.Redis.from_url(CACHE)
    for key in client.scan_iter("sentiforge:cache:*"):
        client.delete(key)
