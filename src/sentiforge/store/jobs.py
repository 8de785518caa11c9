"""The jobs table: create, read, claim, heartbeat, cancel.

A job is run by at most one process at a time (claims and takeovers: ``store/claims.py``,
shared with shards); the loser of a claim gets :class:`JobConflictError`. A cancelled job is
not claimable: a start asked before the cancel (a job waiting for a free slot) finds it so and
does nothing; only :meth:`JobTables.requeue_job` (a resume) makes it claimable again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import func, insert, or_, select, update

from sentiforge.errors import ConflictError, JobConflictError, NotFoundError
from sentiforge.store import claims
from sentiforge.store.base import insert_if_absent
from sentiforge.store.claims import STALE_AFTER
from sentiforge.store.schemas import JobEventPublic, JobPublic
from sentiforge.store.tables import DatasetRow, JobEventRow, JobRow, SampleRow, utcnow

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

Beat = Literal["ok", "cancel", "lost"]
# Job statuses. queued: created, not started; running: claimed by a live process;
# completed: every slot filled; incomplete: ran every slot but some failed all attempts, or
# was interrupted (resumable); failed: stopped by an error; cancelled: stopped on request;
# budget_stopped: stopped before passing its cost cap (resume with a higher one).
STATUSES = ("queued", "running", "completed", "incomplete", "failed", "cancelled", "budget_stopped")
FINISHED = ("completed", "incomplete", "failed", "cancelled", "budget_stopped")
WAITING = ("queued", "incomplete", "failed", "budget_stopped")  # statuses a cancel ends at once
CLAIMABLE = (*WAITING, "completed")  # not running, not cancelled (a resume requeues that first)
SHARDED = "shards"  # a job's claimed_by while its shards run (its liveness is theirs)


class JobTables:
    """Job operations of the :class:`~sentiforge.store.Store` (a mixin: it needs ``engine``)."""

    engine: Engine
    session: Callable[[], Session]
    cancel_queued_shards: Callable[[int], None]  # ShardTables'

    def create_job(
        self,
        dataset_id: int | None,
        recipe: dict[str, Any],
        target: int,
        *,
        kind: str = "recipe",
        request: dict[str, Any] | None = None,
    ) -> int:
        """A queued job, with its "created" event."""
        with self.session() as s:
            row = JobRow(
                dataset_id=dataset_id, recipe=recipe, target=target, status="queued", kind=kind, request=request
            )
            s.add(row)
            s.flush()
            s.add(JobEventRow(job_id=row.id, kind="created", data={"kind": kind, "target": target}))
            s.commit()
            return row.id

    def create_job_in(
        self,
        dataset: str,
        scheme: dict[str, Any],
        recipe: dict[str, Any],
        target: int,
        *,
        kind: str = "recipe",
        request: dict[str, Any] | None = None,
        exist_ok: bool = True,
    ) -> int:
        """A queued job filling the synthetic dataset ``dataset``, made with it unless it exists,
        in one transaction: a job refused leaves no dataset behind, and of concurrent creates of
        one new dataset one makes it and the others fill it (ConflictError only without
        ``exist_ok``, when it existed)."""
        now = utcnow()
        meta = {"recipe": recipe.get("name")}
        with self.engine.begin() as conn:
            made = {"name": dataset, "kind": "synthetic", "scheme": scheme, "meta": meta, "created_at": now}
            dataset_id = insert_if_absent(conn, DatasetRow, made, DatasetRow.id)
            if dataset_id is None:
                if not exist_ok:
                    raise ConflictError(
                        f"a dataset named '{dataset}' exists already; pick another name or delete it first"
                    )
                dataset_id = conn.execute(select(DatasetRow.id).where(DatasetRow.name == dataset)).scalar_one()
            job = {"dataset_id": dataset_id, "recipe": recipe, "target": target, "status": "queued", "kind": kind,
                   "request": request, "created_at": now, "updated_at": now}  # fmt: skip
            job_id = conn.execute(insert(JobRow).values(**job).returning(JobRow.id)).scalar_one()
            created = {"job_id": job_id, "kind": "created", "data": {"kind": kind, "target": target}, "created_at": now}
            conn.execute(insert(JobEventRow).values(**created))
        return int(job_id)

    def add_job_event(self, job_id: int, kind: str, **data: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(JobEventRow).values(job_id=job_id, kind=kind, data=data, created_at=utcnow()))

    def job_events(self, job_id: int, *, after: int = 0, limit: int = 1000) -> list[JobEventPublic]:
        """A job's events with ids above ``after``, oldest first."""
        q = select(JobEventRow).where(JobEventRow.job_id == job_id, JobEventRow.id > after)
        with self.session() as s:
            rows = s.scalars(q.order_by(JobEventRow.id).limit(limit))
            return [JobEventPublic.model_validate(r) for r in rows]

    def job_status_counts(self) -> dict[str, int]:
        with self.session() as s:
            return dict(s.execute(select(JobRow.status, func.count()).group_by(JobRow.status)).all())

    def job_totals(self) -> dict[str, float]:
        """Tokens and cost over every job (for metrics)."""
        cols = (func.sum(JobRow.prompt_tokens), func.sum(JobRow.completion_tokens), func.sum(JobRow.cost))
        with self.session() as s:
            prompt, completion, cost = s.execute(select(*cols)).one()
        return {"prompt_tokens": prompt or 0, "completion_tokens": completion or 0, "cost": cost or 0.0}

    def reclaim_dead_jobs(self, *, stale_after: float = STALE_AFTER) -> list[int]:
        """Mark ``incomplete`` every running job whose process is gone (no heartbeat for
        ``stale_after`` seconds, or a dead pid on this host), so it can be resumed. A sharded
        job is left to its shards (``ShardTables.reclaim_dead_shards`` queues theirs again)."""
        reclaimed = []
        unsharded = or_(JobRow.claimed_by.is_(None), JobRow.claimed_by != SHARDED)
        for dead in claims.dead_claims(self.engine, JobRow, stale_after=stale_after, where=unsharded):
            error = f"the process running it ({dead.claimed_by}) stopped; resume it"
            values = {"status": "incomplete", "error": error, "cancel_requested": False, "updated_at": utcnow()}
            if claims.release(self.engine, JobRow, dead, values):
                self.add_job_event(dead.id, "reclaimed", owner=dead.claimed_by)
                reclaimed.append(dead.id)
        return reclaimed

    def _job_row(self, job_id: int) -> JobRow:
        with self.session() as s:
            row = s.get(JobRow, job_id)
        if row is None:
            raise NotFoundError(f"no job with id {job_id}; `sentiforge jobs` lists them")
        return row

    def job(self, job_id: int) -> JobPublic:
        return JobPublic.model_validate(self._job_row(job_id), from_attributes=True)

    def list_jobs(
        self,
        *,
        status: str | None = None,
        dataset_id: int | None = None,
        kind: str | None = None,
        after: int = 0,
        limit: int | None = None,
    ) -> list[JobPublic]:
        """Jobs in id order, filtered; a page of ``limit`` with ids above ``after``."""
        q = select(JobRow).where(JobRow.id > after).order_by(JobRow.id)
        if status is not None:
            q = q.where(JobRow.status == status)
        if dataset_id is not None:
            q = q.where(JobRow.dataset_id == dataset_id)
        if kind is not None:
            q = q.where(JobRow.kind == kind)
        if limit is not None:
            q = q.limit(limit)
        with self.session() as s:
            return [JobPublic.model_validate(r, from_attributes=True) for r in s.scalars(q)]

    def update_job(self, job_id: int, **values: Any) -> None:
        values["updated_at"] = utcnow()
        with self.engine.begin() as conn:
            conn.execute(update(JobRow).where(JobRow.id == job_id).values(**values))

    def claim_job(self, job_id: int, owner: str, *, stale_after: float = STALE_AFTER) -> JobPublic:
        """Mark the job running for ``owner`` (with a "started" event); JobConflictError if a
        live process runs it, or if it was cancelled (resume it: :meth:`requeue_job`)."""
        values = {"cancel_requested": False}
        if claims.claim(
            self.engine, JobRow, job_id, owner, claimable=CLAIMABLE, values=values, stale_after=stale_after
        ):
            self.add_job_event(job_id, "started", owner=owner)
            return self.job(job_id)
        row = self._job_row(job_id)  # raises for a missing job
        if row.status == "cancelled":
            raise JobConflictError(f"job {job_id} was cancelled; `sentiforge resume {job_id}` runs it again")
        last = row.heartbeat_at
        seen = f", last seen {(utcnow() - last).total_seconds():.0f} s ago" if last else ""
        raise JobConflictError(
            f"job {job_id} is already running (by {row.claimed_by}{seen}); wait for it to finish, "
            f"or stop it with `sentiforge cancel {job_id}` and resume it later"
        )

    def requeue_job(self, job_id: int) -> JobPublic:
        """Make a stopped job claimable again (a resume): queued, from any waiting status, from
        cancelled, or from running under a dead claim (its process was killed). JobConflictError
        for a job that runs in a live process or has completed."""
        with self.engine.begin() as conn:
            conn.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.status.in_((*WAITING, "cancelled")))
                .values(status="queued", cancel_requested=False, updated_at=utcnow())
            )
        unsharded = or_(JobRow.claimed_by.is_(None), JobRow.claimed_by != SHARDED)
        for dead in claims.dead_claims(self.engine, JobRow, where=(JobRow.id == job_id) & unsharded):
            claims.release(self.engine, JobRow, dead, {"status": "queued", "cancel_requested": False})
        job = self.job(job_id)
        if job.status != "queued":
            raise JobConflictError(
                f"job {job_id} is {job.status}: there is nothing to resume"
                + (" (cancel it first to restart it)" if job.status == "running" else "")
            )
        return job

    def heartbeat(self, job_id: int, owner: str) -> Beat:
        """Keep the claim alive; says whether a cancel was asked or the claim was taken over."""
        with self.engine.begin() as conn:
            if not claims.beat(conn, JobRow, job_id, owner):
                return "lost"
            cancel = conn.execute(select(JobRow.cancel_requested).where(JobRow.id == job_id)).scalar()
        return "cancel" if cancel else "ok"

    def request_cancel(self, job_id: int) -> JobPublic:
        """Ask a running job to stop at its next slot boundary; a job that waits is cancelled now
        (a sharded job: its queued shards now, its running ones at their next boundary).
        Everything done so far is kept and the job stays resumable."""
        with self.engine.begin() as conn:
            asked = conn.execute(
                update(JobRow).where(JobRow.id == job_id, JobRow.status == "running").values(cancel_requested=True)
            ).rowcount
            if not asked:
                conn.execute(
                    update(JobRow)
                    .where(JobRow.id == job_id, JobRow.status.in_(WAITING))
                    .values(status="cancelled", updated_at=utcnow())
                )
        if asked:
            self.cancel_queued_shards(job_id)
        job = self.job(job_id)
        if asked or job.status == "cancelled":
            self.add_job_event(job_id, "cancel_requested" if asked else "cancelled")
        if job.status not in {"running", "cancelled"}:
            raise JobConflictError(
                f"job {job_id} is {job.status}: there is nothing to cancel (only a queued or running job can be)"
            )
        return job

    def job_progress(self, job_id: int) -> tuple[set[str], set[str], set[str]]:
        """Slots already filled, text hashes already accepted, and reject slots stored for a job."""
        slots: set[str] = set()
        hashes: set[str] = set()
        rejected: set[str] = set()
        with self.engine.connect() as conn:
            result = conn.execution_options(yield_per=5000).execute(
                select(SampleRow.slot, SampleRow.text_hash, SampleRow.status).where(SampleRow.job_id == job_id)
            )
            for slot, h, status in result:
                if slot is None:  # not written by a job's writer
                    continue
                if status == "accepted":
                    slots.add(slot)
                    hashes.add(h)
                else:
                    rejected.add(slot)
        return slots, hashes, rejected

    def job_sample_digest(self, job_id: int, limit: int) -> dict[str, Any]:
        """What a job wrote, for its summary: accepted and rejected counts, rejects by reason (the
        part of each reason before its first ':'), accepted labels, and up to ``limit`` accepted
        texts (in text-hash order, a fixed draw)."""
        from collections import Counter

        mine = SampleRow.job_id == job_id
        counts = select(SampleRow.status, SampleRow.reason, SampleRow.label, func.count()).where(mine)
        texts = select(SampleRow.text).where(mine, SampleRow.status == "accepted").order_by(SampleRow.text_hash)
        status: Counter[str] = Counter()
        reasons: Counter[str] = Counter()
        labels: Counter[str] = Counter()
        with self.session() as s:
            for st, reason, label, n in s.execute(counts.group_by(SampleRow.status, SampleRow.reason, SampleRow.label)):
                status[st] += n
                if st == "accepted":
                    labels[str(label)] += n
                else:
                    reasons[(reason or "unknown").split(":", 1)[0].strip()[:60]] += n
            found = list(s.scalars(texts.limit(limit)))
        return {
            "accepted": status["accepted"],
            "rejected": sum(n for st, n in status.items() if st != "accepted"),
            "reasons": dict(reasons),
            "labels": dict(labels),
            "texts": found,
        }

    def some_texts(self, dataset: str, split: str | None, limit: int) -> list[str]:
        """Up to ``limit`` accepted texts of a stored dataset (one split when it has that split),
        in text-hash order: a fixed draw that does not follow the order rows were added in."""
        with self.session() as s:
            dataset_id = s.scalar(select(DatasetRow.id).where(DatasetRow.name == dataset))
            if dataset_id is None:
                return []
            q = select(SampleRow.text).where(SampleRow.dataset_id == dataset_id, SampleRow.status == "accepted")
            in_split = select(func.count()).where(SampleRow.dataset_id == dataset_id, SampleRow.split == split)
            if split is not None and s.scalar(in_split):
                q = q.where(SampleRow.split == split)
            return list(s.scalars(q.order_by(SampleRow.text_hash).limit(limit)))

    def set_job_summary(self, job_id: int, summary: dict[str, Any]) -> None:
        """Keep a summary in the job's result (beside what the job answered, if anything)."""
        with self.engine.begin() as conn:
            result = conn.scalar(select(JobRow.result).where(JobRow.id == job_id))
            values = {"result": {**(result or {}), "summary": summary}, "updated_at": utcnow()}
            conn.execute(update(JobRow).where(JobRow.id == job_id).values(**values))

    def job_summaries(self, dataset_id: int | None = None) -> list[dict[str, Any]]:
        """Every job with a summary, oldest first (of one dataset when given): id, dataset,
        kind, when it was made, and the summary."""
        q = select(JobRow.id, DatasetRow.name, JobRow.kind, JobRow.created_at, JobRow.result).join(
            DatasetRow, DatasetRow.id == JobRow.dataset_id
        )
        if dataset_id is not None:
            q = q.where(JobRow.dataset_id == dataset_id)
        with self.session() as s:
            rows = s.execute(q.order_by(JobRow.id)).tuples().all()
        return [
            {"job_id": i, "dataset": name, "kind": kind, "created_at": created, **result["summary"]}
            for i, name, kind, created, result in rows
            if result and isinstance(result.get("summary"), dict)
        ]
