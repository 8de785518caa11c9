"""The review queue's table: samples queued by the gate, each decided once by a person.

The rules (who must be named, what a reject or relabel does to the sample) live in
``quality/review_queue.py``; here a decision and its change to the sample commit together, and an
item decided meanwhile by someone else is refused. A bulk's decisions share a ``bulk_id`` and
are undone together. Leases say who may decide a pending item for the next few minutes: taken
by one conditional UPDATE (as ``claims.py`` does for jobs), so two reviewers never hold one
item, ended by a decision, a release or their time running out.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, or_, select, update
from sqlalchemy.orm import aliased

from sentiforge.errors import ConflictError, NotFoundError, StoreError
from sentiforge.samples import text_hash
from sentiforge.store.base import StoreBase
from sentiforge.store.schemas import ReviewDecision, ReviewFilter, ReviewItemPublic, ReviewLeases
from sentiforge.store.tables import QualityRecordRow, ReviewDecisionRow, ReviewItemRow, SampleRow, utcnow

SAMPLE_CHANGES = {"status", "reason", "label", "text"}
# the orders a reviewer may list items in
SORTS: dict[str, tuple[Any, ...]] = {
    "score": (ReviewItemRow.score.asc().nulls_last(), ReviewItemRow.id),
    "-score": (ReviewItemRow.score.desc().nulls_last(), ReviewItemRow.id),
    "newest": (ReviewItemRow.id.desc(),),
    "oldest": (ReviewItemRow.id,),
    "label": (SampleRow.label, ReviewItemRow.score.asc().nulls_last(), ReviewItemRow.id),
    "decided": (ReviewItemRow.decided_at.desc().nulls_last(), ReviewItemRow.id),
}
# what a decision sets on its item, and an undo clears
DECIDED = ("decided_by", "decided_at", "old_label", "new_label", "old_text", "new_text", "note", "reason", "bulk_id")


def _public(
    item: ReviewItemRow, sample: SampleRow, parent: str | None = None, record: QualityRecordRow | None = None
) -> ReviewItemPublic:
    return ReviewItemPublic(
        id=item.id,
        dataset_id=item.dataset_id,
        sample_id=item.sample_id,
        status=item.status,
        queued_reason=item.queued_reason,
        score=item.score,
        text=sample.text,
        label=sample.label,
        decided_by=item.decided_by,
        decided_at=item.decided_at,
        note=item.note,
        reason=item.reason,
        bulk_id=item.bulk_id,
        leased_by=item.leased_by,
        leased_until=item.leased_until,
        strategy=sample.strategy,
        attributes=sample.attributes or {},
        parent_text=parent,
        quality_reason=record.reason if record else None,
        checks=record.checks if record else {},
        queued_text=item.old_text if item.status == "edited" else sample.text,
        queued_label=item.old_label if item.status == "relabelled" else sample.label,
    )


def _filters(dataset_id: int, f: ReviewFilter) -> list[Any]:
    where: list[Any] = [ReviewItemRow.dataset_id == dataset_id]
    if f.status:
        where.append(ReviewItemRow.status == f.status)
    if f.label:
        where.append(SampleRow.label == f.label)
    if f.strategy:
        where.append(SampleRow.strategy == f.strategy)
    if f.min_score is not None:
        where.append(ReviewItemRow.score >= f.min_score)
    if f.max_score is not None:
        where.append(ReviewItemRow.score <= f.max_score)
    if f.reason:
        where.append(ReviewItemRow.queued_reason.contains(f.reason, autoescape=True))
    if f.text:
        where.append(func.lower(SampleRow.text).contains(f.text.lower(), autoescape=True))
    if f.skip_leased_for:
        where.append(or_(ReviewItemRow.status != "pending", _free_for(f.skip_leased_for, utcnow())))
    if f.second_for:
        D = ReviewDecisionRow
        mine = select(D.id).where(D.item_id == ReviewItemRow.id, D.reviewer == f.second_for, D.undone_at.is_(None))
        where += [ReviewItemRow.status != "pending", ReviewItemRow.decided_by != f.second_for, ~mine.exists()]
    return where


def _free_for(who: str, now: datetime) -> Any:
    """An item ``who`` may lease or decide: no lease on it, ``who``'s own, or one run out."""
    return or_(ReviewItemRow.leased_by.is_(None), ReviewItemRow.leased_by == who, ReviewItemRow.leased_until < now)


def _restore(item: Any) -> dict[str, Any]:
    """The sample's values before ``item``'s decision (queued samples are accepted ones)."""
    if item.status == "rejected":
        return {"status": "accepted", "reason": None}
    if item.status == "relabelled":
        return {"label": item.old_label}
    if item.status == "edited":
        return {"text": item.old_text, "text_hash": text_hash(item.old_text or "")}
    return {}


def enqueue(conn: Connection, dataset_id: int, run_id: int, items: list[dict[str, Any]]) -> None:
    """New review items (``sample_id``, ``queued_reason``, ``score``) in the caller's transaction;
    a sample already in the queue (pending or decided) is not queued twice."""
    if not items:
        return
    ids = [i["sample_id"] for i in items]
    present = set(
        conn.execute(
            select(ReviewItemRow.sample_id).where(
                ReviewItemRow.dataset_id == dataset_id, ReviewItemRow.sample_id.in_(ids)
            )
        ).scalars()
    )
    fresh = [
        {**i, "dataset_id": dataset_id, "run_id": run_id, "status": "pending", "created_at": utcnow()}
        for i in items
        if i["sample_id"] not in present
    ]
    if fresh:
        conn.execute(insert(ReviewItemRow), fresh)


class ReviewTables(StoreBase):
    def _review_items(
        self, *where: Any, order: tuple[Any, ...] = (ReviewItemRow.id,), limit: int | None = None, offset: int = 0
    ) -> list[ReviewItemPublic]:
        """Items with their samples: ``where`` clauses, in ``order``."""
        parent = aliased(SampleRow)
        q = (
            select(ReviewItemRow, SampleRow, parent.text)
            .join(SampleRow, SampleRow.id == ReviewItemRow.sample_id)
            .outerjoin(parent, parent.id == SampleRow.parent_id)
            .where(*where)
        )
        with self.session() as s:
            rows = s.execute(q.order_by(*order).limit(limit).offset(offset)).tuples().all()
            ids = [item.sample_id for item, _, _ in rows]
            found = s.execute(
                select(QualityRecordRow).where(QualityRecordRow.sample_id.in_(ids)).order_by(QualityRecordRow.id)
            ).scalars()
            records = {r.sample_id: r for r in found}  # the latest run's record wins
            return [_public(item, sample, ptext, records.get(item.sample_id)) for item, sample, ptext in rows]

    def filter_review_items(self, dataset_id: int, f: ReviewFilter) -> list[ReviewItemPublic]:
        """Items narrowed by label, strategy, score range, queued reason, text and state, in
        ``f.sort`` order (lowest score first by default), ``f.limit`` from ``f.offset``."""
        order = SORTS.get(f.sort)
        if order is None:
            raise StoreError(f"unknown review order {f.sort!r}; choose one of {list(SORTS)}")
        return self._review_items(*_filters(dataset_id, f), order=order, limit=f.limit, offset=f.offset)

    def count_review_items(self, dataset_id: int, f: ReviewFilter) -> int:
        """How many items ``f`` matches, over all pages."""
        q = (
            select(func.count())
            .select_from(ReviewItemRow)
            .join(SampleRow, SampleRow.id == ReviewItemRow.sample_id)
            .where(*_filters(dataset_id, f))
        )
        with self.session() as s:
            return int(s.scalar(q) or 0)

    def next_review_items(self, dataset_id: int, n: int = 1) -> list[ReviewItemPublic]:
        """The pending items most in need of a look: lowest score first, then oldest."""
        pending = (ReviewItemRow.dataset_id == dataset_id, ReviewItemRow.status == "pending")
        return self._review_items(*pending, order=(ReviewItemRow.score.asc().nulls_last(), ReviewItemRow.id), limit=n)

    def list_review_items(
        self, dataset_id: int, *, status: str | None = None, limit: int = 100
    ) -> list[ReviewItemPublic]:
        where = [ReviewItemRow.dataset_id == dataset_id]
        if status:
            where.append(ReviewItemRow.status == status)
        return self._review_items(*where, limit=limit)

    def review_counts(self, dataset_id: int) -> dict[str, int]:
        """Items per status."""
        q = (
            select(ReviewItemRow.status, func.count())
            .where(ReviewItemRow.dataset_id == dataset_id)
            .group_by(ReviewItemRow.status)
        )
        with self.session() as s:
            return {status: n for status, n in s.execute(q).tuples()}

    def review_item(self, item_id: int) -> ReviewItemPublic:
        found = self._review_items(ReviewItemRow.id == item_id)
        if not found:
            raise NotFoundError(f"no review item {item_id}; `sentiforge review list DATASET` shows them")
        return found[0]

    def decide_review_item(self, item_id: int, decision: ReviewDecision) -> ReviewItemPublic:
        """Record a decision on a pending item and apply its change to the sample, together; the
        item's lease ends. Refused (409) when decided already, or leased to someone else."""
        changes = dict(decision.sample)
        if unknown := set(changes) - SAMPLE_CHANGES:
            raise StoreError(f"a review decision cannot change {sorted(unknown)} of a sample")
        if "text" in changes:
            changes["text_hash"] = text_hash(changes["text"])
        values = decision.model_dump(exclude={"by", "sample"})
        now = utcnow()
        with self.engine.begin() as conn:
            item = _item(conn, item_id)
            _check_open(item, decision.by, now)
            result = conn.execute(
                update(ReviewItemRow)
                .where(ReviewItemRow.id == item_id, ReviewItemRow.status == "pending", _free_for(decision.by, now))
                .values(decided_by=decision.by, decided_at=now, leased_by=None, leased_until=None, **values)
            )
            if result.rowcount != 1:  # someone decided or leased it between our read and our write
                _check_open(_item(conn, item_id), decision.by, now)
                raise ConflictError(f"review item {item_id} was taken by someone else just now; look at it again")
            if changes:
                conn.execute(update(SampleRow).where(SampleRow.id == item.sample_id).values(**changes))
            label = conn.scalar(select(SampleRow.label).where(SampleRow.id == item.sample_id))
            _log(conn, item, decision.by, decision.status, label, decision=decision)
        return self.review_item(item_id)

    def second_review(self, item_id: int, by: str, status: str, label: str | None) -> None:
        """A second reviewer's opinion on a decided item: recorded for agreement, changes nothing."""
        with self.engine.begin() as conn:
            item = _item(conn, item_id)
            if item.status == "pending" or item.decided_by == by:
                raise ConflictError(f"review item {item_id} needs a first decision by someone else before a second")
            _log(conn, item, by, status, label, second=True)

    def undo_review_item(self, item_id: int, by: str) -> ReviewItemPublic:
        """Take back ``by``'s decision on an item: the sample as it was, the item pending again."""
        with self.engine.begin() as conn:
            item = _item(conn, item_id)
            if item.status == "pending" or item.decided_by != by:
                raise ConflictError(f"review item {item_id} holds no decision of {by} to undo")
            _undo(conn, item, by)
        return self.review_item(item_id)

    def undo_review_bulk(self, bulk_id: str, by: str) -> list[int]:
        """Take back every decision of one bulk, in one transaction; the items undone. Only the
        reviewer who made the bulk may (409 for anyone else); items decided again since stay."""
        with self.engine.begin() as conn:
            owners = set(conn.scalars(select(ReviewDecisionRow.reviewer).where(ReviewDecisionRow.bulk_id == bulk_id)))
            if not owners:
                raise NotFoundError(f"no bulk decision {bulk_id!r}; a bulk answer names its bulk_id")
            if owners != {by}:
                raise ConflictError(f"bulk {bulk_id} was made by {', '.join(sorted(owners))}; only they can undo it")
            items = conn.execute(  # locked in id order, as leases lock them
                select(ReviewItemRow)
                .where(ReviewItemRow.bulk_id == bulk_id, ReviewItemRow.status != "pending")
                .order_by(ReviewItemRow.id)
                .with_for_update()
            ).all()
            for item in items:
                _undo(conn, item, by)
        return sorted(item.id for item in items)

    # -- leases: who may decide an item now ---------------------------------------------
    def lease_review_items(self, ids: list[int], by: str, seconds: float) -> ReviewLeases:
        """Lease the pending ``ids`` nobody else holds to ``by`` for ``seconds`` (renewing
        ``by``'s own): one conditional UPDATE, so of two reviewers asking at once exactly one
        gets each item, on SQLite and PostgreSQL alike."""
        now = utcnow()
        until = now + timedelta(seconds=seconds)
        R = ReviewItemRow
        with self.engine.begin() as conn:
            # PostgreSQL: lock the rows in id order first, so two lease requests over the same
            # items wait for each other instead of deadlocking (SQLite has one writer anyway)
            conn.execute(select(R.id).where(R.id.in_(ids)).order_by(R.id).with_for_update())
            conn.execute(
                update(R)
                .where(R.id.in_(ids), R.status == "pending", _free_for(by, now))
                .values(leased_by=by, leased_until=until)
            )
            rows = conn.execute(select(R.id, R.status, R.leased_by).where(R.id.in_(ids))).all()
        out = ReviewLeases(granted=[], held={}, decided=[], until=until)
        for row in rows:
            if row.status != "pending":
                out.decided.append(row.id)
            elif row.leased_by == by:
                out.granted.append(row.id)
            else:
                out.held[row.id] = str(row.leased_by)
        return out

    def release_review_items(self, ids: list[int], by: str) -> int:
        """End ``by``'s leases on ``ids`` (others' stay); how many ended."""
        R = ReviewItemRow
        with self.engine.begin() as conn:
            done = conn.execute(
                update(R).where(R.id.in_(ids), R.leased_by == by).values(leased_by=None, leased_until=None)
            )
        return int(done.rowcount)

    def review_totals(self, dataset_id: int, since: datetime) -> dict[str, int]:
        """Standing first decisions per reviewer since ``since`` (second opinions and undone
        decisions do not count)."""
        D = ReviewDecisionRow
        q = (
            select(D.reviewer, func.count())
            .where(D.dataset_id == dataset_id, D.created_at >= since, D.second.is_(False), D.undone_at.is_(None))
            .group_by(D.reviewer)
        )
        with self.session() as s:
            return {who: int(n) for who, n in s.execute(q).tuples()}

    def review_decisions(self, dataset_id: int) -> list[tuple[int, str, str, str | None]]:
        """Standing decisions as (sample, reviewer, status, label), oldest first."""
        D = ReviewDecisionRow
        q = select(D.sample_id, D.reviewer, D.status, D.label).where(D.dataset_id == dataset_id, D.undone_at.is_(None))
        with self.session() as s:
            return [tuple(r) for r in s.execute(q.order_by(D.id)).tuples()]  # type: ignore[misc]


def _item(conn: Connection, item_id: int) -> Any:
    item = conn.execute(select(ReviewItemRow).where(ReviewItemRow.id == item_id)).first()
    if item is None:
        raise NotFoundError(f"no review item {item_id}; `sentiforge review list DATASET` shows them")
    return item


def _check_open(item: Any, by: str, now: datetime) -> None:
    """409 unless ``by`` may decide ``item`` now: pending, and not leased to someone else."""
    if item.status != "pending":
        when = f"{item.decided_at:%Y-%m-%d %H:%M}" if item.decided_at else "?"
        raise ConflictError(f"review item {item.id} was already {item.status} by {item.decided_by} at {when}")
    if item.leased_by not in (None, by) and item.leased_until is not None and item.leased_until >= now:
        raise ConflictError(
            f"review item {item.id} is leased to {item.leased_by} until {item.leased_until:%H:%M:%S} UTC; "
            "take another one (it comes back when their lease ends)"
        )


def _undo(conn: Connection, item: Any, by: str) -> None:
    """Restore the sample, make the item pending again (leased to ``by``), mark the log undone."""
    if changes := _restore(item):
        conn.execute(update(SampleRow).where(SampleRow.id == item.sample_id).values(**changes))
    cleared = dict.fromkeys(DECIDED)
    conn.execute(update(ReviewItemRow).where(ReviewItemRow.id == item.id).values(status="pending", **cleared))
    D = ReviewDecisionRow
    conn.execute(
        update(D)
        .where(D.item_id == item.id, D.reviewer == by, D.second.is_(False), D.undone_at.is_(None))
        .values(undone_at=utcnow())
    )


def _log(
    conn: Connection,
    item: Any,
    by: str,
    status: str,
    label: str | None,
    *,
    second: bool = False,
    decision: ReviewDecision | None = None,
) -> None:
    conn.execute(
        insert(ReviewDecisionRow).values(
            item_id=item.id,
            dataset_id=item.dataset_id,
            sample_id=item.sample_id,
            reviewer=by,
            status=status,
            label=label,
            second=second,
            reason=decision.reason if decision else None,
            note=decision.note if decision else None,
            bulk_id=decision.bulk_id if decision else None,
            created_at=utcnow(),
        )
    )
