"""Job shards: a job's step split into slot ranges that workers run in parallel.

A shard is claimed like a job (``store/claims.py``: one conditional UPDATE; a stale claim,
one whose process is gone or silent, is taken over), and every claim counts a delivery: a shard delivered more
than the cap (it keeps killing its worker) ends ``failed`` with that reason instead of
looping. A shard writes its own counters; :meth:`ShardTables.roll_up` sums them into the job
row and settles the job's status once no shard is left to run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import ConfigDict
from sqlalchemy import func, insert, select, text, update

from sentiforge.counters import COUNTER_FIELDS, Counters
from sentiforge.errors import JobConflictError, NotFoundError
from sentiforge.store import claims
from sentiforge.store.base import insert_if_absent
from sentiforge.store.claims import STALE_AFTER
from sentiforge.store.jobs import SHARDED, Beat
from sentiforge.store.tables import JobEventRow, JobRow, JobShardRow, TextClaimRow, utcnow

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

CLAIMABLE = ("queued", "incomplete", "budget_stopped")  # a shard's statuses a delivery may run


class ShardPublic(Counters):
    model_config = ConfigDict(from_attributes=True)

    id: int
    job_id: int
    step: int
    start: int
    stop: int
    status: str
    deliveries: int
    claimed_by: str | None = None
    error: str | None = None


class ShardTables:
    """Shard operations of the :class:`~sentiforge.store.Store` (a mixin: it needs ``engine``)."""

    engine: Engine
    session: Callable[[], Session]

    def create_shards(self, job_id: int, ranges: list[tuple[int, int, int]]) -> list[int]:
        """Shards (step, start, stop) for a job, which turns running under the shards' claims."""
        now = utcnow()
        with self.engine.begin() as conn:
            rows = [
                {"job_id": job_id, "step": st, "start": a, "stop": b, "status": "queued", "deliveries": 0,
                 "updated_at": now, **dict.fromkeys(COUNTER_FIELDS, 0)}
                for st, a, b in ranges
            ]  # fmt: skip
            conn.execute(insert(JobShardRow), rows)
            conn.execute(
                update(JobRow)
                .where(JobRow.id == job_id)
                .values(status="running", claimed_by=SHARDED, heartbeat_at=now, updated_at=now, error=None)
            )
            conn.execute(
                insert(JobEventRow).values(job_id=job_id, kind="sharded", data={"shards": len(rows)}, created_at=now)
            )
            q = select(JobShardRow.id).where(JobShardRow.job_id == job_id).order_by(JobShardRow.id)
            return list(conn.execute(q).scalars())

    def requeue_shards(self, job_id: int, ids: list[int]) -> None:
        """Unfinished shards queued again (deliveries start afresh), their job running again."""
        now = utcnow()
        with self.engine.begin() as conn:
            conn.execute(
                update(JobShardRow)
                .where(JobShardRow.id.in_(ids), JobShardRow.status != "running")
                .values(status="queued", deliveries=0, error=None)
            )
            conn.execute(
                update(JobRow)
                .where(JobRow.id == job_id)
                .values(status="running", claimed_by=SHARDED, heartbeat_at=now, updated_at=now, error=None)
            )

    def shard(self, shard_id: int) -> ShardPublic:
        with self.session() as s:
            row = s.get(JobShardRow, shard_id)
        if row is None:
            raise NotFoundError(f"no shard {shard_id}")
        return ShardPublic.model_validate(row)

    def shards(self, job_id: int) -> list[ShardPublic]:
        with self.session() as s:
            q = select(JobShardRow).where(JobShardRow.job_id == job_id).order_by(JobShardRow.id)
            return [ShardPublic.model_validate(r) for r in s.scalars(q)]

    def claim_shard(self, shard_id: int, owner: str, max_deliveries: int) -> ShardPublic:
        """Claim a shard for ``owner`` and count the delivery. JobConflictError if a live
        process holds it; a shard past ``max_deliveries`` is failed (and says so) instead."""
        values = {"deliveries": JobShardRow.deliveries + 1}
        won = claims.claim(self.engine, JobShardRow, shard_id, owner, claimable=CLAIMABLE, values=values)
        shard = self.shard(shard_id)
        if not won and shard.status == "running":
            raise JobConflictError(f"shard {shard_id} is running (by {shard.claimed_by})")
        if won and shard.deliveries > max_deliveries:
            why = f"shard {shard_id} was delivered {shard.deliveries} times (cap {max_deliveries}): it stops its worker"
            self.finish_shard(shard_id, "failed", why)
            return self.shard(shard_id)
        return shard

    def reclaim_dead_shards(self, *, stale_after: float = STALE_AFTER, job_id: int | None = None) -> list[int]:
        """Queue again running shards (of every job, or of ``job_id``) whose process is gone
        (silent for ``stale_after`` seconds, or a dead pid on this host); the ids this call
        queued, for the caller to send again (a sweeper beside it finds them queued already).
        Covers a worker killed with no replacement and a shard killed at its hard time limit,
        which Celery acknowledges instead of redelivering; a copy the broker redelivers as well
        finds the shard claimed or finished and does nothing."""
        where = JobShardRow.job_id == job_id if job_id is not None else True
        queued = []
        for dead in claims.dead_claims(self.engine, JobShardRow, stale_after=stale_after, where=where):
            error = f"the process running it ({dead.claimed_by}) stopped; queued again"
            if claims.release(self.engine, JobShardRow, dead, {"status": "queued", "error": error}):
                queued.append(dead.id)
        return queued

    def waiting_shards(self, job_id: int | None = None) -> list[int]:
        """Queued shards of running jobs (of one job when given): the ones a lost message
        (a service or broker restart) would leave waiting for ever unless sent again."""
        q = (
            select(JobShardRow.id)
            .join(JobRow, JobRow.id == JobShardRow.job_id)
            .where(JobShardRow.status == "queued", JobRow.status == "running")
        )
        if job_id is not None:
            q = q.where(JobShardRow.job_id == job_id)
        with self.session() as s:
            return list(s.scalars(q.order_by(JobShardRow.id)))

    def cancel_queued_shards(self, job_id: int) -> None:
        """A cancel of a sharded job: its shards not started yet end now (running ones stop at
        their next heartbeat); the job settles once none runs."""
        with self.engine.begin() as conn:
            ended = conn.execute(
                update(JobShardRow)
                .where(JobShardRow.job_id == job_id, JobShardRow.status == "queued")
                .values(status="cancelled", updated_at=utcnow())
            ).rowcount
            if ended:
                _roll_up(conn, job_id)

    def heartbeat_shard(self, shard_id: int, job_id: int, owner: str) -> Beat:
        """Keep a shard's claim (and its job's) alive and roll its counters up; says whether the
        job was asked to cancel."""
        with self.engine.begin() as conn:
            kept = claims.beat(conn, JobShardRow, shard_id, owner)
            conn.execute(
                update(JobRow).where(JobRow.id == job_id, JobRow.status == "running").values(heartbeat_at=utcnow())
            )
            if kept:
                _roll_up(conn, job_id)  # the job's progress moves with its shards' flushes
            cancel = conn.execute(select(JobRow.cancel_requested).where(JobRow.id == job_id)).scalar()
        if not kept:
            return "lost"
        return "cancel" if cancel else "ok"

    def finish_shard(self, shard_id: int, status: str, error: str | None = None) -> None:
        """A shard's end and its job's roll-up, in one transaction."""
        job_id = self.shard(shard_id).job_id
        with self.engine.begin() as conn:
            conn.execute(update(JobShardRow).where(JobShardRow.id == shard_id).values(status=status, error=error))
            _roll_up(conn, job_id)

    def claim_text(self, dataset_id: int, text_hash: str, job_id: int, slot: str) -> bool:
        """Claim an accepted text's hash in a dataset for a job's slot: True when this slot holds
        the claim (just taken, or taken by the same slot before: a rerun of a shard whose worker
        died), False when another slot accepted the text first. One insert-if-absent on the
        primary key, so two shards accepting the same text at once cannot both win."""
        values = {"dataset_id": dataset_id, "text_hash": text_hash, "job_id": job_id, "slot": slot}
        C = TextClaimRow
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # no wait for the WAL flush (3 ms of a claim's 4): the claim's sample commits
                # after it, synchronously, and WAL is flushed in order, so a stored sample's
                # claim is as durable as the sample; a claim lost in a crash costs nothing
                conn.execute(text("SET LOCAL synchronous_commit TO OFF"))
            if insert_if_absent(conn, TextClaimRow, values, TextClaimRow.text_hash) is not None:
                return True
            holder = conn.execute(
                select(C.job_id, C.slot).where(C.dataset_id == dataset_id, C.text_hash == text_hash)
            ).first()
        return holder is not None and tuple(holder) == (job_id, slot)

    def roll_up(self, job_id: int) -> str:
        """Sum the shards' counters into the job; settle its status once none runs or waits."""
        with self.engine.begin() as conn:
            return _roll_up(conn, job_id)


def _roll_up(conn: Any, job_id: int) -> str:
    sums = [func.coalesce(func.sum(getattr(JobShardRow, c)), 0) for c in COUNTER_FIELDS]
    found = conn.execute(select(*sums).where(JobShardRow.job_id == job_id)).one()
    totals = dict(zip(COUNTER_FIELDS, found, strict=True))
    states = conn.execute(select(JobShardRow.status, JobShardRow.error).where(JobShardRow.job_id == job_id)).all()
    values: dict[str, Any] = {**totals, "updated_at": utcnow()}
    status = _job_status([st for st, _ in states])
    if status != "running":
        errors = sorted({e for st, e in states if e and st != "completed"})
        values.update(status=status, error="; ".join(errors) or None, cancel_requested=False)
    conn.execute(update(JobRow).where(JobRow.id == job_id).values(**values))
    return status


def _job_status(states: list[str]) -> str:
    if any(s in ("queued", "running") for s in states):
        return "running"
    for status in ("failed", "budget_stopped", "cancelled", "incomplete"):
        if status in states:
            return status
    return "completed"
