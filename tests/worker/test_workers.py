"""Real Celery worker processes on the local Redis, sharing one PostgreSQL database: a sharded
2,000-sample job ends with exactly 2,000 samples; so does one whose worker is SIGKILLed mid-job,
with no response paid twice; a shard that keeps killing its worker ends failed."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from sentiforge.app import jobs
from sentiforge.recipe import BackendSpec, Recipe, StepSpec
from sentiforge.store import Store
from sentiforge.store.tables import SampleRow

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


def _job(store: Store, count: int, backend: BackendSpec) -> int:
    recipe = Recipe(backend=backend, steps=[StepSpec(params={"count": count})])
    return jobs.create_job(store, recipe, "sharded")


def _wait(store: Store, job_id: int, timeout: float, until: Callable[[Any], bool] | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = store.job(job_id)
        if (until or (lambda j: j.status != "running"))(job):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still {store.job(job_id).status} ({store.shards(job_id)})")


def _accepted_slots(store: Store, job_id: int) -> tuple[int, int]:
    accepted = (SampleRow.job_id == job_id) & (SampleRow.status == "accepted")
    with store.session() as s:
        rows = s.scalar(select(func.count()).where(accepted)) or 0
        slots = s.scalar(select(func.count(func.distinct(SampleRow.slot))).where(accepted)) or 0
    return rows, slots


def test_a_sharded_job_over_two_workers_fills_every_slot_once(
    worker_env: dict[str, str], start_worker: Callable[[str], Any]
) -> None:
    from sentiforge.worker.tasks import dispatch

    with Store(worker_env["SENTIFORGE_DATABASE_URL"]) as store:
        job_id = _job(store, 2000, BackendSpec(kind="fake", fake_latency=0.001))
        assert len(dispatch(store, job_id, shard_size=250)) == 8
        start_worker("w1"), start_worker("w2")
        job = _wait(store, job_id, 240)
        assert (job.status, job.done) == ("completed", 2000), job.error
        assert _accepted_slots(store, job_id) == (2000, 2000)
        owners = {s.claimed_by for s in store.shards(job_id)}
        assert len({o.rsplit(":", 1)[1] for o in owners if o}) == 2  # both workers ran shards


def test_sigkill_of_a_worker_mid_job_loses_and_repeats_nothing(
    worker_env: dict[str, str], start_worker: Callable[[str], Any]
) -> None:
    from sentiforge.testing.server import OpenAITestServer
    from sentiforge.worker.tasks import dispatch

    with OpenAITestServer(latency=0.01) as server, Store(worker_env["SENTIFORGE_DATABASE_URL"]) as store:
        spec = BackendSpec(kind="openai", base_url=server.base_url, model="test", concurrency=4)
        job_id = _job(store, 2000, spec)
        dispatch(store, job_id, shard_size=250)
        victim = start_worker("victim")
        deadline = time.monotonic() + 120
        while not any(s.status == "running" and s.done >= 50 for s in store.shards(job_id)):  # mid-shard
            assert time.monotonic() < deadline, store.shards(job_id)
            time.sleep(0.05)
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait(10)
        killed_at = len(server.requests)
        start_worker("rescuer")
        job = _wait(store, job_id, 300)
        assert (job.status, job.done) == ("completed", 2000), job.error
        assert _accepted_slots(store, job_id) == (2000, 2000)
        twice = server.answered_twice()
        print(f"answered twice: {len(twice)} of {len(server.requests)} requests (killed at {killed_at})")
        # a shard caches each answer at once: only answers in flight when the worker died are paid again
        assert len(twice) <= spec.concurrency, (len(twice), killed_at)
        assert any(s.deliveries == 2 for s in store.shards(job_id)), [
            (s.id, s.deliveries, s.claimed_by, s.done) for s in store.shards(job_id)
        ]


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def test_a_worker_killed_with_no_replacement_is_covered_by_the_live_one(
    worker_env: dict[str, str], start_worker: Callable[[str], Any]
) -> None:
    """Issue 21.5: SIGKILL one of two workers mid-shard and start none: the live worker's sweeper
    sends the dead one's shard again, and the job completes exactly, well within 2 minutes,
    long before the broker would redeliver (visibility timeout an hour, as in production)."""
    from sentiforge.worker.tasks import dispatch

    worker_env.update(SENTIFORGE_SHARD_TIME_LIMIT="600", SENTIFORGE_BROKER_VISIBILITY_TIMEOUT="3600")
    with Store(worker_env["SENTIFORGE_DATABASE_URL"]) as store:
        job_id = _job(store, 600, BackendSpec(kind="fake", fake_latency=0.05, concurrency=2))
        dispatch(store, job_id, shard_size=100)
        victim, _ = start_worker("victim"), start_worker("survivor")
        deadline = time.monotonic() + 120

        def victims_shard() -> Any:
            for s in store.shards(job_id):
                pid = int((s.claimed_by or ":0").rsplit(":", 1)[1])
                if s.status == "running" and s.done >= 20 and pid and _parent(pid) == victim.pid:
                    return s
            return None

        while (shard := victims_shard()) is None:
            assert time.monotonic() < deadline, store.shards(job_id)
            time.sleep(0.05)
        os.killpg(victim.pid, signal.SIGKILL)
        killed = time.monotonic()
        victim.wait(10)
        job = _wait(store, job_id, 120)
        took = time.monotonic() - killed
        print(f"completed {took:.1f} s after the SIGKILL")
        assert (job.status, job.done) == ("completed", 600), job.error
        assert _accepted_slots(store, job_id) == (600, 600)
        assert store.shard(shard.id).deliveries == 2 and took < 120


def test_two_workers_share_the_provider_limit_in_redis(
    worker_env: dict[str, str], start_worker: Callable[[str], Any]
) -> None:
    from sentiforge.testing.server import OpenAITestServer
    from sentiforge.worker.tasks import dispatch

    worker_env["SENTIFORGE_LIMITS_URL"] = "redis://127.0.0.1:6379/7"
    worker_env.update(SENTIFORGE_SHARD_TIME_LIMIT="60", SENTIFORGE_BROKER_VISIBILITY_TIMEOUT="90")  # paced shards
    with OpenAITestServer(rpm_limit=600) as server, Store(worker_env["SENTIFORGE_DATABASE_URL"]) as store:
        spec = BackendSpec(kind="openai", base_url=server.base_url, model=f"m{os.getpid()}-{time.time()}",
                           requests_per_minute=600, concurrency=8)  # fmt: skip
        job_id = _job(store, 120, spec)
        dispatch(store, job_id, shard_size=30)
        start_worker("a"), start_worker("b")
        job = _wait(store, job_id, 120)
        assert (job.status, job.done) == ("completed", 120), job.error
        outcomes = server.counts
        assert outcomes.get("rate_limit", 0) == 0 and outcomes["ok"] >= 120, outcomes
        owners = {s.claimed_by for s in store.shards(job_id)}
        assert len({o.rsplit(":", 1)[1] for o in owners if o}) == 2  # both workers sent requests
        times = sorted(r.started for r in server.requests)
        assert len(times) / (times[-1] - times[0]) <= 600 / 60 * 1.1  # within 10/s over the run


def test_a_shard_that_kills_its_worker_each_time_ends_failed(
    worker_env: dict[str, str], start_worker: Callable[[str], Any]
) -> None:
    from sentiforge.worker.tasks import dispatch

    with Store(worker_env["SENTIFORGE_DATABASE_URL"]) as store:
        job_id = _job(store, 40, BackendSpec(kind="fake", fake_latency=0.05, concurrency=1))
        (shard_id,) = dispatch(store, job_id, shard_size=40)
        start_worker("w")
        killed: set[int] = set()
        seen: dict[int, float] = {}
        deadline = time.monotonic() + 120
        while (shard := store.shard(shard_id)).status in ("queued", "running") and time.monotonic() < deadline:
            pid = int((shard.claimed_by or ":0").rsplit(":", 1)[1])
            running_for = time.monotonic() - seen.setdefault(pid, time.monotonic())
            runs = shard.status == "running" and shard.deliveries <= 3  # a capped delivery never runs it
            if runs and pid not in killed and running_for > 0.3:
                os.kill(pid, signal.SIGKILL)  # the process running it dies mid-run, as on a poison input
                killed.add(pid)
            time.sleep(0.05)
        assert shard.status == "failed" and "delivered 4 times (cap 3)" in (shard.error or ""), shard
        assert len(killed) == 3
        job = store.job(job_id)
        assert job.status == "failed" and "cap 3" in (job.error or "")


async def test_the_service_sends_a_large_job_to_the_workers(
    worker_env: dict[str, str], start_worker: Callable[[str], Any]
) -> None:
    import httpx

    from sentiforge.api.main import create_app
    from sentiforge.config import Settings

    settings = Settings(shard_size=100, rate_limit_per_minute=0)
    with Store(settings.database_url) as store:
        token = store.create_key("w", ["admin"])[1]
    app = create_app(settings)
    start_worker("w1")
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as client:
            body = {"dataset": "big", "count": 300, "backend": {"kind": "fake"}}
            created = await client.post("/v1/jobs/generate", json=body)
            assert created.status_code == 202, created.text
            job_id = created.json()["id"]
            for _ in range(600):
                job = (await client.get(f"/v1/jobs/{job_id}")).json()
                if job["status"] not in ("queued", "running"):
                    break
                await asyncio.sleep(0.1)
    assert (job["status"], job["done"]) == ("completed", 300)
    with Store(settings.database_url) as store:
        assert len(store.shards(job_id)) == 3 and job_id not in app.state.runner.tasks


async def test_a_restarted_service_sends_waiting_shards_and_a_resume_revives_dead_ones(
    worker_env: dict[str, str], start_worker: Callable[[str], Any]
) -> None:
    """Issue 21.5: shards queued whose messages were lost (the service stopped between cutting a
    job and sending it) are sent again when the service starts; a resume of a job whose worker
    died (it still shows running) answers 202 and sends its shard again."""
    import httpx

    from sentiforge.api.main import create_app
    from sentiforge.app.shards import split
    from sentiforge.config import Settings

    settings = Settings(shard_size=100, rate_limit_per_minute=0)
    with Store(settings.database_url) as store:
        token = store.create_key("w", ["admin"])[1]
        job_id = _job(store, 200, BackendSpec(kind="fake"))
        first, _second = split(store, job_id, 100)  # cut, never sent
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as client:
            with Store(settings.database_url) as store:
                store.claim_shard(first, f"{socket.gethostname()}:999999999", 3)  # taken by a worker since killed
            resumed = await client.post(f"/v1/jobs/{job_id}/resume")
            assert resumed.status_code == 202, resumed.text
            start_worker("w1")
            for _ in range(1200):
                job = (await client.get(f"/v1/jobs/{job_id}")).json()
                if job["status"] not in ("queued", "running"):
                    break
                await asyncio.sleep(0.1)
    assert (job["status"], job["done"]) == ("completed", 200), job
    with Store(settings.database_url) as store:
        assert _accepted_slots(store, job_id) == (200, 200)


def _value(text: str, name: str, labels: str = "") -> float:
    """A metric's value in Prometheus exposition text (0 when absent)."""
    for line in text.splitlines():
        if line.startswith(f"{name}{labels} ") or (not labels and line.startswith(f"{name} ")):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_one_scrape_of_the_service_shows_what_the_workers_did(
    worker_env: dict[str, str], start_worker: Callable[[str], Any]
) -> None:
    """Issue 21.12: a job run by a worker process: the service's /metrics (read key) counts its
    samples exactly, its rate-limit waits and their seconds, its tokens and its cost."""
    import httpx

    from sentiforge.api.main import create_app
    from sentiforge.config import Settings
    from sentiforge.testing.server import OpenAITestServer
    from sentiforge.worker.tasks import dispatch

    settings = Settings(rate_limit_per_minute=0)
    with OpenAITestServer() as server, Store(settings.database_url) as store:
        read = store.create_key("scraper", ["read"])[1]
        spec = BackendSpec(kind="openai", base_url=server.base_url, model=f"m{time.time()}", concurrency=4,
                           requests_per_minute=600, input_per_mtok=1.0, output_per_mtok=2.0)  # fmt: skip
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                assert (await client.get("/metrics")).status_code == 401
                key = {"Authorization": f"Bearer {read}"}
                before = (await client.get("/metrics", headers=key)).text  # what this test process ran before
                job_id = _job(store, 60, spec)
                dispatch(store, job_id, shard_size=30)
                start_worker("w1")
                job = await asyncio.to_thread(_wait, store, job_id, 120)
                assert (job.status, job.done) == ("completed", 60), job.error
                text = (await client.get("/metrics", headers=key)).text

    def grew(name: str, labels: str = "") -> float:
        return _value(text, name, labels) - _value(before, name, labels)

    assert grew("sentiforge_job_samples_total") == 60
    assert grew("sentiforge_llm_rate_limit_waits_total", '{kind="limiter"}') >= 5
    assert grew("sentiforge_llm_rate_limit_wait_seconds_total", '{kind="limiter"}') > 0.5
    assert _value(text, "sentiforge_llm_tokens_total", '{kind="prompt"}') == job.prompt_tokens > 0
    assert _value(text, "sentiforge_llm_cost_usd_total") == pytest.approx(job.cost) and job.cost > 0
