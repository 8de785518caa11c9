"""Shards in-process: a job cut into slot ranges, each run on its own, ends with every slot
filled once; a rerun shard pays nothing; the delivery cap fails a poison shard."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from sentiforge.app import jobs
from sentiforge.app.shards import revive, run_shard, split, sweep
from sentiforge.errors import JobConflictError
from sentiforge.recipe import BackendSpec, Recipe, StepSpec
from sentiforge.store import Store
from sentiforge.testing.backend import FakeBackend


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 's.db'}")


def _job(store: Store, count: int, steps: int = 1) -> int:
    recipe = Recipe(backend=BackendSpec(kind="fake"), steps=[StepSpec(params={"count": count})] * steps)
    return jobs.create_job(store, recipe, "sharded")


async def test_shards_fill_every_slot_once_and_roll_up(store: Store) -> None:
    job_id = _job(store, 45, steps=2)
    ids = split(store, job_id, 20)
    assert [(s.step, s.start, s.stop) for s in store.shards(job_id)] == [
        (0, 0, 20), (0, 20, 40), (0, 40, 45), (1, 0, 20), (1, 20, 40), (1, 40, 45)
    ]  # fmt: skip
    assert store.job(job_id).status == "running"
    fake = FakeBackend()
    for shard_id in ids[:-1]:
        assert (await run_shard(store, shard_id, backend=fake)).status == "completed"
    assert store.job(job_id).status == "running" and store.job(job_id).result is None  # no summary yet
    last = await run_shard(store, ids[-1], backend=fake)
    assert (last.done, last.status) == (5, "completed")
    job = store.job(job_id)
    assert (job.status, job.done) == ("completed", 90)
    assert job.result and job.result["summary"]["accepted"] == 90  # the last shard summarised the job
    samples = store.samples(job.dataset_id or 0)
    assert len(samples) == 90 and len(fake.history) == job.requests
    assert len({s.text for s in samples}) == 90


async def test_a_redelivered_shard_repeats_nothing_and_a_poison_shard_fails(store: Store) -> None:
    job_id = _job(store, 30)
    first, second = split(store, job_id, 15)
    fake = FakeBackend()
    await run_shard(store, first, backend=fake)
    paid = len(fake.history)
    store.update_job(job_id, status="running")
    from sentiforge.store.tables import JobShardRow

    with store.engine.begin() as conn:  # as if a worker died after writing: the shard runs again
        conn.execute(JobShardRow.__table__.update().where(JobShardRow.id == first).values(status="queued"))
    again = await run_shard(store, first, backend=fake)
    assert again.done == 15 and len(fake.history) == paid and again.deliveries == 2
    dead = f"{socket.gethostname()}:999999999"  # a pid that is gone: its claim is stale at once
    for _ in range(3):  # claims whose worker died each time (a poison shard), then the cap
        store.claim_shard(second, dead, max_deliveries=3)
    capped = await run_shard(store, second, backend=fake, max_deliveries=3)
    assert capped.status == "failed" and "delivered 4 times (cap 3)" in (capped.error or "")
    job = store.job(job_id)
    assert job.status == "failed" and "cap 3" in (job.error or "") and job.done == 15


async def test_a_shard_whose_worker_died_unseen_is_sent_again_by_the_sweep(store: Store) -> None:
    job_id = _job(store, 20)
    first, second = split(store, job_id, 10)
    await run_shard(store, first, backend=FakeBackend())
    store.claim_shard(second, f"{socket.gethostname()}:999999999", max_deliveries=3)  # killed at its time limit
    assert jobs.reclaim(store) == []  # the job itself is not reclaimed: it is left to its shards
    sent: list[list[int]] = []
    assert sweep(store, sent.append) == [second] and sent == [[second]]
    assert sweep(store, sent.append) == []  # queued now: a second sweeper sends nothing more
    assert store.shard(second).status == "queued" and store.job(job_id).status == "running"
    assert (await run_shard(store, second, backend=FakeBackend())).status == "completed"
    assert (store.job(job_id).status, store.job(job_id).done) == ("completed", 20)


async def test_resuming_a_sharded_job_queues_only_its_unfinished_shards(store: Store) -> None:
    job_id = _job(store, 20)
    first, second = split(store, job_id, 10)
    await run_shard(store, first, backend=FakeBackend())
    store.finish_shard(second, "incomplete", "interrupted")
    assert store.job(job_id).status == "incomplete"
    assert split(store, job_id, 10) == [second]
    assert store.job(job_id).status == "running" and store.shard(second).status == "queued"


async def test_a_cancel_ends_queued_shards_at_once_and_sticks_until_a_resume(store: Store) -> None:
    """Issue 21.4 for sharded jobs: a cancel with every shard still queued settles the job now;
    a delivery arriving afterwards runs nothing; a resume queues the shards again."""
    job_id = _job(store, 20)
    first, second = split(store, job_id, 10)
    assert jobs.cancel(store, job_id).status == "cancelled"  # no worker ever needed to see it
    assert {s.status for s in store.shards(job_id)} == {"cancelled"}
    fake = FakeBackend()
    assert (await run_shard(store, first, backend=fake)).status == "cancelled" and fake.requests == 0
    with pytest.raises(JobConflictError, match="cancelled"):
        store.claim_job(job_id, "someone:1")
    jobs.requeue(store, job_id)
    assert split(store, job_id, 10) == [first, second]
    for shard_id in (first, second):
        await run_shard(store, shard_id, backend=fake)
    assert (store.job(job_id).status, store.job(job_id).done) == ("completed", 20)


async def test_a_resume_revives_a_running_sharded_job_whose_worker_died(store: Store) -> None:
    """Issue 21.5: resume of a job that shows running because its worker died: its dead and its
    queued shards are sent again; while live workers hold all of them it is refused."""
    job_id = _job(store, 30)
    first, second, third = split(store, job_id, 10)
    store.claim_shard(first, f"{socket.gethostname()}:999999999", max_deliveries=3)  # its worker was killed
    store.claim_shard(second, "other-host:1", max_deliveries=3)  # alive, elsewhere
    sent: list[list[int]] = []
    assert revive(store, job_id, sent.append) == [first, third] and sent == [[first, third]]
    assert sweep(store, sent.append, waiting=True) == [first, third]  # a restarted service: waiting ones too
    store.claim_shard(first, "other-host:1", max_deliveries=3)
    store.claim_shard(third, "other-host:1", max_deliveries=3)
    with pytest.raises(JobConflictError, match="live workers hold"):
        revive(store, job_id, sent.append)


async def test_a_cancel_while_a_shard_runs_stops_it_and_ends_the_queued_one(store: Store) -> None:
    """Cancel at another state: one shard running, one queued. The running one stops at its next
    heartbeat, the queued one at once; the job ends cancelled; a resume completes it exactly."""
    import asyncio

    job_id = _job(store, 40)
    first, second = split(store, job_id, 20)
    slow = FakeBackend(latency=0.05, max_concurrency=1)
    running = asyncio.create_task(run_shard(store, first, backend=slow, heartbeat_seconds=0.05))
    while store.shard(first).status != "running" or slow.requests < 3:
        await asyncio.sleep(0.01)
    jobs.cancel(store, job_id)
    assert store.shard(second).status == "cancelled"
    assert (await running).status == "cancelled" and slow.requests < 20
    assert store.job(job_id).status == "cancelled"
    jobs.requeue(store, job_id)
    for shard_id in split(store, job_id, 20):
        await run_shard(store, shard_id, backend=FakeBackend())
    job = store.job(job_id)
    assert (job.status, job.done, store.count(job.dataset_id)) == ("completed", 40, 40)
