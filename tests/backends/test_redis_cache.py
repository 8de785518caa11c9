"""The response cache in Redis (SENTIFORGE_CACHE_URL): a second job in another database, as
another worker would be, answers the same requests from it and sends nothing to the server;
Redis unreachable fails the job at its start, saying so, and sends nothing either."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from sentiforge.app import jobs
from sentiforge.backends.base import Completion, Usage
from sentiforge.backends.redis_cache import RedisCache, shared_cache
from sentiforge.config import get_settings
from sentiforge.engine import run_job
from sentiforge.errors import ConfigError, StoreError
from sentiforge.recipe import BackendSpec, Recipe, StepSpec
from sentiforge.store import Store
from sentiforge.testing.server import OpenAITestServer

pytestmark = pytest.mark.redis
URL = "redis://127.0.0.1:6379/7"
DOWN = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture
def cache_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("SENTIFORGE_CACHE_URL", URL)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
    client = RedisCache(URL)._redis
    for key in client.scan_iter("sentiforge:cache:*"):  # only these tests write here (db 7)
        client.delete(key)


def _cache(**kw: float) -> RedisCache:
    return RedisCache(URL, prefix=f"sentiforge:test:{uuid.uuid4().hex}", **kw)


def test_values_round_trip_keep_the_first_answer_and_expire() -> None:
    cache = _cache(ttl=30)
    first = Completion(
        text="Grand café", model="m", finish_reason="stop", usage=Usage(prompt_tokens=7, completion_tokens=3)
    )
    assert cache.get("k") is None
    cache.put("k", first)
    cache.put("k", first.model_copy(update={"text": "a later answer"}))  # NX: the first stays
    assert cache.get("k") == first
    ttl = cache._redis.pttl(cache._key("k"))
    assert 29_000 < ttl <= 30_000
    plain = _cache()
    plain.put("k", first)
    assert plain._redis.pttl(plain._key("k")) == -1  # no TTL: kept until Redis evicts it
    cache._redis.delete(cache._key("k"), plain._key("k"))


def test_redis_down_is_an_error_never_a_silent_miss() -> None:
    cache = RedisCache(DOWN)
    with pytest.raises(StoreError, match="unreachable"):
        cache.ping()
    with pytest.raises(StoreError, match=r"could not read the response cache in Redis at redis://127\.0\.0\.1:1/0"):
        cache.get("k")
    with pytest.raises(StoreError, match="could not write"):
        cache.put("k", Completion(text="x"))
    assert "hunter2" not in RedisCache("redis://:hunter2@127.0.0.1:1/0").safe_url
    with pytest.raises(ConfigError):
        RedisCache(URL, ttl=-1)


def _run(tmp_path: Path, name: str, spec: BackendSpec) -> tuple[Store, int]:
    store = Store(f"sqlite:///{tmp_path / name}.db")  # a database of its own: only Redis is shared
    job_id = jobs.create_job(store, Recipe(backend=spec, steps=[StepSpec(params={"count": 30})]), name)
    return store, job_id


async def test_a_second_job_elsewhere_pays_nothing(tmp_path: Path, cache_env: None) -> None:
    with OpenAITestServer(model=f"m-{uuid.uuid4().hex}") as server:
        spec = BackendSpec(kind="openai", base_url=server.base_url, model="test", concurrency=4)
        first, first_id = _run(tmp_path, "first", spec)
        done = await run_job(first, first_id, runtime=get_settings().runtime())  # as an entry point hands it
        assert (done.status, done.done) == ("completed", 30) and done.requests == len(server.requests) >= 30
        paid = len(server.requests)
        second, second_id = _run(tmp_path, "second", spec)
        again = await run_job(second, second_id, runtime=get_settings().runtime())
        assert (again.status, again.done, again.requests) == ("completed", 30, 0)
        assert again.cache_hits == paid and len(server.requests) == paid  # nothing reached the server
        assert sorted(s.text for s in second.samples(again.dataset_id)) == sorted(
            s.text for s in first.samples(done.dataset_id)
        )
        from sentiforge.store.tables import CacheRow

        with first.session() as s:  # the database's cache was not used
            assert s.query(CacheRow).count() == 0


async def test_redis_down_fails_the_job_at_its_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENTIFORGE_CACHE_URL", DOWN)
    get_settings.cache_clear()
    try:
        with pytest.raises(StoreError, match="unreachable"):
            shared_cache(get_settings().cache_url)
        with OpenAITestServer() as server:
            store, job_id = _run(tmp_path, "down", BackendSpec(kind="openai", base_url=server.base_url, model="t"))
            result = await run_job(store, job_id, runtime=get_settings().runtime())
            assert result.status == "failed" and "response cache in Redis at redis://127.0.0.1:1/0" in (
                result.error or ""
            )
            assert len(server.requests) == 0 and store.job(job_id).status == "failed"
    finally:
        get_settings.cache_clear()
