"""A whole generation job through the engine, over HTTP, against a server that misbehaves."""

from __future__ import annotations

from pathlib import Path

import pytest

from sentiforge.app.jobs import run_recipe
from sentiforge.recipe import BackendSpec, Recipe, StepSpec
from sentiforge.samples import text_hash
from sentiforge.store import Store
from sentiforge.testing import OpenAITestServer

FAULTS = {"rate_limit": 0.15, "server_error": 0.1, "timeout": 0.04, "truncated": 0.04, "not_json": 0.04, "empty": 0.05}
SECRET = "sk-engine-test-9f8e7d6c5b4a"


def recipe_for(server: OpenAITestServer, count: int) -> Recipe:
    return Recipe(
        scheme="three_class",
        seed=7,
        backend=BackendSpec(
            kind="openai",
            model="test-model",
            base_url=server.base_url,
            concurrency=8,
            timeout=0.4,
            api_key_env="SENTIFORGE_ENGINE_TEST_KEY",
        ),
        steps=[StepSpec(strategy="generate", params={"count": count, "few_shot": 0})],
        max_attempts=10,
    )


async def test_job_with_faults_ends_with_exactly_the_requested_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SENTIFORGE_ENGINE_TEST_KEY", SECRET)
    store = Store(f"sqlite:///{tmp_path / 'jobs.db'}")
    with OpenAITestServer(faults=FAULTS, retry_after=0.05, hang=10, seed=3, latency=0.01) as server:
        result = await run_recipe(recipe_for(server, 40), store, "synthetic")
    assert result.status == "completed", result.error
    assert result.done == 40
    dataset = store.dataset_id("synthetic")
    samples = store.samples(dataset)
    assert len(samples) == 40 == store.count(dataset)
    assert len({text_hash(s.text) for s in samples}) == 40
    assert store.count(dataset, by="label") == {"negative": 14, "neutral": 13, "positive": 13}
    outcomes = server.counts
    assert sum(v for k, v in outcomes.items() if k != "ok") > 0  # faults were injected ...
    assert server.answered_twice() == []  # ... and nothing that was answered was asked again
    assert result.requests == outcomes["ok"] + outcomes["empty"]
    store.close()
    for path in tmp_path.rglob("*"):  # the key is nowhere on disk
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


async def test_a_rerun_is_served_from_the_store_cache(tmp_path: Path) -> None:
    """The backend's key (base URL + model) is stable, so a second backend for the same
    server finds the first one's answers in the store and sends nothing."""
    from sentiforge.app.jobs import create_job
    from sentiforge.backends import from_spec
    from sentiforge.engine import Engine

    store = Store(f"sqlite:///{tmp_path / 'jobs.db'}")
    with OpenAITestServer() as server:
        recipe = recipe_for(server, 12)
        first = await run_recipe(recipe, store, "synthetic")
        sent = len(server.requests)
        backend = from_spec(recipe.backend)
        second = await Engine(store, backend).run(create_job(store, recipe, "synthetic"))
        await backend.aclose()
    store.close()
    assert first.done == 12 and second.done == 12
    assert second.cache_hits == 12 and len(server.requests) == sent
