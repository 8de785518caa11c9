"""Keys and limits: 401 without a key, 403 without the scope, 429 with Retry-After over the
request limit, 413 over the body limit, CORS off by default, health open."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sentiforge.config import Settings
from sentiforge.store import Store


async def test_health_needs_no_key_and_ready_checks_the_database(make_client: Callable[..., Any]) -> None:
    async with make_client() as client:
        assert (await client.get("/health")).json() == {"status": "ok"}
        ready = await client.get("/ready")
        assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok"}


async def test_ready_is_503_when_redis_is_down(make_client: Callable[..., Any], settings: Settings) -> None:
    down = settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    async with make_client(app_settings=down) as client:
        ready = await client.get("/ready")
    assert ready.status_code == 503 and ready.json()["checks"]["redis"].startswith("down")


@pytest.mark.redis
async def test_ready_checks_the_redis_response_cache(make_client: Callable[..., Any], settings: Settings) -> None:
    for url, code, state in (
        ("redis://127.0.0.1:1/0", 503, "down: StoreError"),
        ("redis://127.0.0.1:6379/7", 200, "ok"),
    ):
        async with make_client(app_settings=settings.model_copy(update={"cache_url": url})) as client:
            ready = await client.get("/ready")
        assert (ready.status_code, ready.json()["checks"]["cache"]) == (code, state)


@pytest.mark.parametrize("path", ["/v1/jobs", "/v1/datasets", "/v1/models", "/metrics", "/v1/keys"])
async def test_every_route_but_health_needs_a_key(make_client: Callable[..., Any], path: str) -> None:
    async with make_client() as client:
        answer = await client.get(path)
    assert answer.status_code == 401 and "API key" in answer.json()["detail"]
    assert answer.headers["www-authenticate"] == "Bearer"


async def test_a_wrong_or_malformed_key_is_401(make_client: Callable[..., Any], tokens: dict[str, str]) -> None:
    wrong = tokens["read"][:-4] + "AAAA"
    for token in (wrong, "sfk_nothing", "not-a-key"):
        async with make_client(token) as client:
            assert (await client.get("/v1/jobs")).status_code == 401


async def test_a_missing_scope_is_403(make_client: Callable[..., Any], tokens: dict[str, str]) -> None:
    async with make_client(tokens["predict"]) as client:
        denied = await client.get("/v1/jobs")
        assert denied.status_code == 403 and "read" in denied.json()["detail"]
        assert (await client.post("/v1/jobs/generate", json={"dataset": "x"})).status_code == 403
        assert (await client.get("/v1/models")).status_code == 200  # predict or read may list models
    async with make_client(tokens["read"]) as client:
        assert (await client.get("/v1/jobs")).status_code == 200
        assert (await client.post("/v1/jobs/generate", json={"dataset": "x"})).status_code == 403
        assert (await client.post("/v1/sentiment", json={"text": "hi"})).status_code == 403
        assert (await client.get("/v1/keys")).status_code == 403
    async with make_client(tokens["admin"]) as client:  # admin holds every scope
        assert (await client.get("/v1/keys")).status_code == 200


async def test_x_api_key_header_works_too(make_client: Callable[..., Any], tokens: dict[str, str]) -> None:
    async with make_client() as client:
        assert (await client.get("/v1/jobs", headers={"X-API-Key": tokens["read"]})).status_code == 200


async def test_a_revoked_key_is_refused(make_client: Callable[..., Any], tokens: dict[str, str], store: Store) -> None:
    from sentiforge.api import deps

    async with make_client(tokens["read"]) as client:
        assert (await client.get("/v1/jobs")).status_code == 200
        store.revoke_key("read-user")
        deps._cache.clear()  # what KEY_CACHE_SECONDS does by itself
        assert (await client.get("/v1/jobs")).status_code == 401


async def test_keys_over_http_show_the_token_once_and_never_the_hash(admin: Any, store: Store) -> None:
    made = await admin.post("/v1/keys", json={"name": "alice", "scopes": ["review", "read"]})
    assert made.status_code == 201
    token = made.json()["token"]
    assert store.verify_key(token) is not None
    listed = (await admin.get("/v1/keys")).text
    assert token not in listed and "secret_hash" not in listed and token.split("_", 2)[2] not in listed
    bad = await admin.post("/v1/keys", json={"name": "bob", "scopes": ["root"]})
    assert bad.status_code == 422 and "root" in bad.json()["detail"]
    assert (await admin.post("/v1/keys/alice/revoke")).json()["revoked_at"] is not None
    assert store.verify_key(token) is None


async def test_rate_limit_answers_429_with_retry_after(
    make_client: Callable[..., Any], tokens: dict[str, str], settings: Settings
) -> None:
    limited = settings.model_copy(update={"rate_limit_per_minute": 3})
    async with make_client(tokens["read"], app_settings=limited) as client:
        codes = [(await client.get("/v1/jobs")).status_code for _ in range(3)]
        over = await client.get("/v1/jobs")
        assert codes == [200, 200, 200] and over.status_code == 429
        assert 1 <= int(over.headers["retry-after"]) <= 60 and "retry" in over.json()["detail"]
        other = await client.get("/v1/jobs", headers={"Authorization": f"Bearer {tokens['admin']}"})
        assert other.status_code == 200  # per key
        assert (await client.get("/health")).status_code == 200


async def test_rate_limit_shared_through_redis(
    make_client: Callable[..., Any], tokens: dict[str, str], settings: Settings
) -> None:
    pytest.importorskip("redis")
    import redis

    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    shared = settings.model_copy(update={"rate_limit_per_minute": 2, "redis_url": "redis://127.0.0.1:6379/15"})
    redis.Redis(host="127.0.0.1", port=6379, db=15).flushdb()
    async with (
        make_client(tokens["read"], app_settings=shared) as one,
        make_client(tokens["read"], app_settings=shared) as two,
    ):
        assert (await one.get("/v1/jobs")).status_code == 200
        assert (await two.get("/v1/jobs")).status_code == 200
        assert (await one.get("/v1/jobs")).status_code == 429  # the second app counted too
        assert (await one.get("/ready")).json()["checks"]["redis"] == "ok"


async def test_oversized_json_body_is_413_and_nothing_is_stored(
    make_client: Callable[..., Any], tokens: dict[str, str], settings: Settings, store: Store
) -> None:
    small = settings.model_copy(update={"max_body_mb": 0.001})
    async with make_client(tokens["write"], app_settings=small) as client:
        big = await client.post("/v1/jobs/generate", json={"dataset": "big", "kind_of_text": "x" * 5000})
        assert big.status_code == 413 and "MB" in big.json()["detail"]

        async def chunks() -> Any:  # no Content-Length: counted while it streams
            for _ in range(10):
                yield b" " * 500

        streamed = await client.post(
            "/v1/jobs/generate", content=chunks(), headers={"content-type": "application/json"}
        )
        assert streamed.status_code == 413
    assert store.list_jobs() == [] and store.list_datasets() == []


async def test_cors_is_off_by_default(
    make_client: Callable[..., Any], tokens: dict[str, str], settings: Settings
) -> None:
    origin = {"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "GET"}
    async with make_client(tokens["read"]) as client:
        answer = await client.get("/v1/jobs", headers=origin)
        assert "access-control-allow-origin" not in answer.headers
        assert "access-control-allow-origin" not in (await client.options("/v1/jobs", headers=origin)).headers
    allowed = settings.model_copy(update={"cors_origins": "https://elsewhere.example"})
    async with make_client(tokens["read"], app_settings=allowed) as client:
        answer = await client.get("/v1/jobs", headers=origin)
        assert answer.headers["access-control-allow-origin"] == "https://elsewhere.example"
