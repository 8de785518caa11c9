"""Shards running at once on one PostgreSQL database, with a model that gives the same text to
different slots (in threads, each with its own store and event loop; and in two real worker
processes): no text is stored twice and every shard still fills its range."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from sentiforge.app import jobs
from sentiforge.app.shards import run_shard_sync, split
from sentiforge.recipe import BackendSpec, Recipe, StepSpec
from sentiforge.store import Store
from sentiforge.store.tables import SampleRow, TextClaimRow
from sentiforge.testing.backend import FakeBackend

pytestmark = [pytest.mark.postgres]
POOL = 400  # distinct texts the model knows: ~100 slots per shard collide across shards often


def _run_all_at_once(url: str, shard_ids: list[int]) -> list[Any]:
    barrier = threading.Barrier(len(shard_ids))
    results: list[Any] = [None] * len(shard_ids)

    def run(i: int) -> None:
        with Store(url) as store:
            barrier.wait()
            backend = FakeBackend(distinct_texts=POOL, latency=0.002)
            results[i] = run_shard_sync(store, shard_ids[i], backend=backend, flush_every=10)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(shard_ids))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def _stored(store: Store, job_id: int) -> tuple[int, int, int, int]:
    """Accepted rows, distinct accepted texts, duplicates met (and retried), claims of the job."""
    accepted = (SampleRow.job_id == job_id) & (SampleRow.status == "accepted")
    repeated = (SampleRow.job_id == job_id) & (SampleRow.reason == "exact duplicate of an accepted sample")
    with store.session() as s:
        rows = s.scalar(select(func.count()).where(accepted)) or 0
        texts = s.scalar(select(func.count(func.distinct(SampleRow.text_hash))).where(accepted)) or 0
        met = s.scalar(select(func.count()).where(repeated)) or 0
        claims = s.scalar(select(func.count()).select_from(TextClaimRow).where(TextClaimRow.job_id == job_id)) or 0
    return rows, texts, met, claims


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
        rows, texts, met, claims = _stored(store, job_id)
        assert (rows, texts, claims) == (200, 200, 200)
        assert met > 0  # the model did repeat itself: duplicates were met and retried


def test_a_rerun_slot_keeps_its_own_claim(worker_env: dict[str, str]) -> None:
    with Store(worker_env["SENTIFORGE_DATABASE_URL"]) as store:
        recipe = Recipe(backend=BackendSpec(kind="fake"), steps=[StepSpec(params={"count": 2})])
        job_id = jobs.create_job(store, recipe, "claims")
        dataset_id = store.job(job_id).dataset_id or 0
        assert store.claim_text(dataset_id, "h" * 32, job_id, "0:1")
        assert store.claim_text(dataset_id, "h" * 32, job_id, "0:1")  # the same slot again (a redelivery)
        assert not store.claim_text(dataset_id, "h" * 32, job_id, "0:0")  # another slot loses
        assert store.claim_text(dataset_id, "g" * 32, job_id, "0:0")


@pytest.mark.redis
@pytest.mark.slow
def test_two_worker_processes_never_store_the_same_text_twice(
    worker_env: dict[str, str], start_worker: Callable[[str], Any]
) -> None:
    from sentiforge.testing.server import OpenAITestServer
    from sentiforge.worker.tasks import dispatch

    with (
        OpenAITestServer(distinct_texts=1500, latency=0.005) as server,
        Store(worker_env["SENTIFORGE_DATABASE_URL"]) as store,
    ):
        spec = BackendSpec(kind="openai", base_url=server.base_url, model="test", concurrency=8)
        job_id = jobs.create_job(store, Recipe(backend=spec, steps=[StepSpec(params={"count": 600})]), "collide")
        assert len(dispatch(store, job_id, shard_size=100)) == 6
        start_worker("a"), start_worker("b")
        deadline = time.monotonic() + 240
        while store.job(job_id).status == "running" and time.monotonic() < deadline:
            time.sleep(0.2)
        job = store.job(job_id)
        assert (job.status, job.done) == ("completed", 600), job.error
        rows, texts, met, claims = _stored(store, job_id)
        owners = {s.claimed_by for s in store.shards(job_id)}
    assert (rows, texts, claims) == (600, 600, 600) and met > 0, (rows, texts, met, claims)
    assert len({o.rsplit(":", 1)[1] for o in owners if o}) == 2  # both workers ran shards
