"""Claims, heartbeats and takeovers: one home for jobs and shards alike.

A row (a job, or a shard of one) is run by at most one process at a time. :func:`claim` is a
conditional UPDATE (``... WHERE status IN claimable``), atomic on SQLite and PostgreSQL alike,
so of two processes claiming one row exactly one wins. A claim nobody keeps alive any more
(its process was killed: no heartbeat for ``stale_after`` seconds, or its pid is gone on this
host) is taken over with a compare-and-swap on the old claim, so a crashed run can always be
resumed, and :func:`dead_claims` + :func:`release` let a sweeper hand it back to the queue.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from sentiforge.store.tables import JobRow, JobShardRow, utcnow

if TYPE_CHECKING:
    from sqlalchemy import Engine

STALE_AFTER = 30.0  # seconds without a heartbeat after which a running claim is abandoned
Table = type[JobRow] | type[JobShardRow]


def this_process() -> str:
    """The owner name a claim records: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_gone(owner: str | None) -> bool:
    """True when ``owner`` is a process of this host that no longer exists."""
    host, _, pid = (owner or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def is_stale(owner: str | None, beat: datetime | None, *, stale_after: float = STALE_AFTER) -> bool:
    """Whether a running claim is abandoned: silent for ``stale_after`` s, or its process gone."""
    return beat is None or utcnow() - beat > timedelta(seconds=stale_after) or owner_gone(owner)


def claim(
    engine: Engine,
    table: Table,
    row_id: int,
    owner: str,
    *,
    claimable: Collection[str],
    values: dict[str, Any] | None = None,
    stale_after: float = STALE_AFTER,
) -> bool:
    """Mark the row running for ``owner`` if its status is ``claimable``, or if it runs under a
    stale claim (taken over by compare-and-swap on that claim); whether this call won."""
    now = utcnow()
    new = {"status": "running", "claimed_by": owner, "heartbeat_at": now, "updated_at": now, **(values or {})}
    with engine.begin() as conn:
        won = conn.execute(
            update(table).where(table.id == row_id, table.status.in_(list(claimable))).values(**new)
        ).rowcount
        if won:
            return True
        row = conn.execute(
            select(table.claimed_by, table.heartbeat_at).where(table.id == row_id, table.status == "running")
        ).first()
        if row is None or not is_stale(row.claimed_by, row.heartbeat_at, stale_after=stale_after):
            return False
        return bool(conn.execute(update(table).where(*_same_claim(table, row_id, row)).values(**new)).rowcount)


def beat(conn: Any, table: Table, row_id: int, owner: str) -> bool:
    """Keep ``owner``'s claim alive; False when the claim is no longer its own."""
    kept = conn.execute(
        update(table)
        .where(table.id == row_id, table.claimed_by == owner, table.status == "running")
        .values(heartbeat_at=utcnow())
    ).rowcount
    return bool(kept)


def dead_claims(engine: Engine, table: Table, *, stale_after: float = STALE_AFTER, where: Any = True) -> list[Any]:
    """Running rows (id, claimed_by, heartbeat_at) whose claim is abandoned."""
    q = select(table.id, table.claimed_by, table.heartbeat_at).where(table.status == "running", where)
    with engine.connect() as conn:
        rows = conn.execute(q).all()
    return [r for r in rows if is_stale(r.claimed_by, r.heartbeat_at, stale_after=stale_after)]


def release(engine: Engine, table: Table, dead: Any, values: dict[str, Any]) -> bool:
    """Set ``values`` on a row found by :func:`dead_claims` unless its claim moved meanwhile
    (a heartbeat came, or another sweeper was first); whether this call did it."""
    with engine.begin() as conn:
        return bool(conn.execute(update(table).where(*_same_claim(table, dead.id, dead)).values(**values)).rowcount)


def _same_claim(table: Table, row_id: int, row: Any) -> list[Any]:
    """The compare-and-swap condition: still running under the claim ``row`` saw."""
    last = row.heartbeat_at
    return [
        table.id == row_id,
        table.status == "running",
        table.claimed_by == row.claimed_by,
        table.heartbeat_at == last if last is not None else table.heartbeat_at.is_(None),
    ]
