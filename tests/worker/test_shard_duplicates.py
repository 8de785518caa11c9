"""Shards running at once in separate threads (each with its own store connection pool and
event loop, as in separate workers) on one PostgreSQL database, with a model that gives the
same text to different slots: no text is stored twice and every shard still fills its range."""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any

import pytest
from sqlalchemy import func, select

from sentiforge.app import jobs
from sentiforge.app.shards import run_shard_sync, split
from sentiforge.backends.base import ChatRequest
from sentiforge.recipe import BackendSpec, Recipe, StepSpec
from sentiforge.store import Store
from sentiforge.store.models import SampleRow, TextClaimRow
from sentiforge.testing.backend import FakeBackend

pytestmark = [pytest.mark.postgres]
POOL = 400  # distinct texts the model knows: ~100 slots per shard collide across shards often


def _pooled(request: ChatRequest) -> str:
    """A valid answer whose text is one of POOL, chosen by the request: different slots (and
    different shards) often get the same text."""
    answer = json.loads(FakeBackend().default_answer(request))
    n = int(hashlib.sha256(request.model_dump_json().encode()).hexdigest(), 16) % POOL
    answer["text"] = f"Shared answer number {n} about the order."
    return json.dumps(answer)


def _run_all_at_once(url: str, shard_ids: list[int]) -> list[Any]:
    barrier = threading.Barrier(len(shard_ids))
    results: list[Any] = [None] * len(shard_ids)

    def run(i: int) -> None:
        with Store(url) as store:
            barrier.wait()
            backend = FakeBackend(responder=_pooled, latency=0.002)
            results[i] = run_shard_sync(store, shard_ids[i], backend=backend, flush_every=10)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(shard_ids))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def test_shards_at_once_never_accept_the_same_text_twice(worker_env: dict[str, str]) -> None:
    url = worker_env["SENTIFORGE_DATABASE_URL"]
    with Store(url) as store:
        recipe = Recipe(backend=BackendSpec(kind="fake"), steps=[StepSpec(params={"count": 200})])
        job_id = jobs.create_job(store, recipe, "collide")
        shard_ids = split(store, job_id, 50)
    results = _run_all_at_once(url, shard_ids)
    assert [r.status for r in results] == ["completed"] * 4, results
    with Store(url) as store:
        job = store.job(job_id)
        assert (job.status, job.done) == ("completed", 200), job.error
        accepted = (SampleRow.job_id == job_id) & (SampleRow.status == "accepted")
        with store.session() as s:
            rows = s.scalar(select(func.count()).where(accepted))
            texts = s.scalar(select(func.count(func.distinct(SampleRow.text_hash))).where(accepted))
            lost = s.scalar(select(func.count()).where(SampleRow.reason == "exact duplicate of an accepted sample"))
            claims = s.scalar(select(func.count()).select_from(TextClaimRow).where(TextClaimRow.job_id == job_id))
        assert (rows, texts, claims) == (200, 200, 200)
        assert lost and lost > 0  # the model did repeat itself: duplicates were met and retried


def test_a_rerun_slot_keeps_its_own_claim(worker_env: dict[str, str]) -> None:
    with Store(worker_env["SENTIFORGE_DATABASE_URL"]) as store:
        recipe = Recipe(backend=BackendSpec(kind="fake"), steps=[StepSpec(params={"count": 2})])
        job_id = jobs.create_job(store, recipe, "claims")
        dataset_id = store.job(job_id).dataset_id or 0
        assert store.claim_text(dataset_id, "h" * 32, job_id, "0:1")
        assert store.claim_text(dataset_id, "h" * 32, job_id, "0:1")  # the same slot again (a redelivery)
        assert not store.claim_text(dataset_id, "h" * 32, job_id, "0:0")  # another slot loses
        assert store.claim_text(dataset_id, "g" * 32, job_id, "0:0")
