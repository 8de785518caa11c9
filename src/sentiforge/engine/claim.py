"""A job (or a shard of one) held by this process: claimed, kept alive, told when to stop.

The store decides who holds a row (``store/claims.py``: an atomic claim, takeovers of dead
claims; ``store/jobs.py`` and ``store/shards.py`` for each table). This is the one loop around
it, for every kind of job: the engine's runs (a whole job, or one shard on a worker,
``app/shards.py``) and the one-call tasks (quality, evaluate, train, build: ``app/tasks.py``).
While the holder works, the claim is renewed every ``every`` seconds; the first answer other
than ``ok`` is handed to ``on_stop``: ``cancel`` (a cancel was asked, from any process) or
``lost`` (another process took the row over: this one looked dead).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sentiforge.store.claims import this_process

if TYPE_CHECKING:
    from sentiforge.store import Store
    from sentiforge.store.jobs import Beat
    from sentiforge.store.schemas import JobPublic
    from sentiforge.store.shards import ShardPublic

HEARTBEAT_SECONDS = 2.0  # well inside the store's stale limit (claims.STALE_AFTER)


@dataclass(frozen=True)
class Claim:
    """This process's hold on a job, or on one shard of it (``shard_id``)."""

    store: Store
    job_id: int
    owner: str
    shard_id: int | None = None

    @classmethod
    def of_shard(cls, store: Store, shard: ShardPublic, owner: str | None = None) -> Claim:
        """The claim a shard's claimer holds (``claim_shard``)."""
        return cls(store, shard.job_id, shard.claimed_by or owner or this_process(), shard.id)

    def beat(self) -> Beat:
        """Renew the claim (a shard's renews its job's too and rolls its counters up)."""
        if self.shard_id is None:
            return self.store.heartbeat(self.job_id, self.owner)
        return self.store.heartbeat_shard(self.shard_id, self.job_id, self.owner)

    @asynccontextmanager
    async def kept(
        self,
        on_stop: Callable[[Beat], None],
        *,
        every: float = HEARTBEAT_SECONDS,
        until: Callable[[], bool] | None = None,
    ) -> AsyncIterator[None]:
        """Keep the claim alive while the block runs (or, with ``until``, until it says so)."""
        keeper = asyncio.create_task(self._keep(on_stop, every, until or (lambda: False)))
        try:
            yield
        finally:
            keeper.cancel()

    async def _keep(self, on_stop: Callable[[Beat], None], every: float, until: Callable[[], bool]) -> None:
        told = False
        while not until():
            await asyncio.sleep(every)
            said = await asyncio.to_thread(self.beat)
            if said != "ok" and not told:
                told = True
                on_stop(said)


async def claim_job(store: Store, job_id: int, owner: str | None = None) -> tuple[JobPublic, Claim]:
    """Claim a job for this process (JobConflictError if a live one runs it, or it was cancelled)."""
    owner = owner or this_process()
    job = await asyncio.to_thread(store.claim_job, job_id, owner)
    return job, Claim(store, job_id, owner)


async def claim_shard(store: Store, shard_id: int, max_deliveries: int) -> ShardPublic:
    """Claim a shard for this process and count the delivery (JobConflictError while a live
    process holds it; a shard past ``max_deliveries`` comes back failed, not running). The
    engine that runs it keeps the claim alive (:meth:`Claim.of_shard`)."""
    return await asyncio.to_thread(store.claim_shard, shard_id, this_process(), max_deliveries)
