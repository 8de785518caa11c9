"""The review queue's table: samples queued by the gate, each decided once by a person.

The rules (who must be named, what a reject or relabel does to the sample) live in
``quality/review_queue.py``; here a decision and its change to the sample commit together, and an
item decided meanwhile by someone else is refused.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.orm import aliased

from sentiforge.errors import ConflictError, NotFoundError, StoreError
from sentiforge.samples import text_hash
from sentiforge.store.base import StoreBase
from sentiforge.store.schemas import ReviewDecision, ReviewFilter, ReviewItemPublic
from sentiforge.store.tables import QualityRecordRow, ReviewDecisionRow, ReviewItemRow, SampleRow, utcnow

SAMPLE_CHANGES = {"status", "reason", "label", "text"}


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
    if f.second_for:
        D = ReviewDecisionRow
        mine = select(D.id).where(D.item_id == ReviewItemRow.id, D.reviewer == f.second_for, D.undone_at.is_(None))
        where += [ReviewItemRow.status != "pending", ReviewItemRow.decided_by != f.second_for, ~mine.exists()]
    return where


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
        self, *where: Any, order: tuple[Any, ...] = (ReviewItemRow.id,), limit: int | None = None
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
            rows = s.execute(q.order_by(*order).limit(limit)).tuples().all()
            ids = [item.sample_id for item, _, _ in rows]
            found = s.execute(
                select(QualityRecordRow).where(QualityRecordRow.sample_id.in_(ids)).order_by(QualityRecordRow.id)
            ).scalars()
            records = {r.sample_id: r for r in found}  # the latest run's record wins
            return [_public(item, sample, ptext, records.get(item.sample_id)) for item, sample, ptext in rows]

    def filter_review_items(self, dataset_id: int, f: ReviewFilter) -> list[ReviewItemPublic]:
        """Items narrowed by label, strategy, score range, queued reason and state; lowest score first."""
        order = (ReviewItemRow.score.asc().nulls_last(), ReviewItemRow.id)
        return self._review_items(*_filters(dataset_id, f), order=order, limit=f.limit)

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
        """Record a decision on a pending item and apply its change to the sample, together."""
        changes = dict(decision.sample)
        if unknown := set(changes) - SAMPLE_CHANGES:
            raise StoreError(f"a review decision cannot change {sorted(unknown)} of a sample")
        if "text" in changes:
            changes["text_hash"] = text_hash(changes["text"])
        values = decision.model_dump(exclude={"by", "sample"})
        with self.engine.begin() as conn:
            item = conn.execute(select(ReviewItemRow).where(ReviewItemRow.id == item_id)).first()
            if item is None:
                raise NotFoundError(f"no review item {item_id}; `sentiforge review list DATASET` shows them")
            if item.status != "pending":
                when = f"{item.decided_at:%Y-%m-%d %H:%M}" if item.decided_at else "?"
                raise ConflictError(f"review item {item_id} was already {item.status} by {item.decided_by} at {when}")
            result = conn.execute(
                update(ReviewItemRow)
                .where(ReviewItemRow.id == item_id, ReviewItemRow.status == "pending")
                .values(decided_by=decision.by, decided_at=utcnow(), **values)
            )
            if result.rowcount != 1:  # someone decided it between our read and our write
                raise ConflictError(f"review item {item_id} was decided by someone else just now; look at it again")
            if changes:
                conn.execute(update(SampleRow).where(SampleRow.id == item.sample_id).values(**changes))
            label = conn.scalar(select(SampleRow.label).where(SampleRow.id == item.sample_id))
            _log(conn, item, decision.by, decision.status, label)
        return self.review_item(item_id)

    def second_review(self, item_id: int, by: str, status: str, label: str | None) -> None:
        """A second reviewer's opinion on a decided item: recorded for agreement, changes nothing."""
        with self.engine.begin() as conn:
            item = conn.execute(select(ReviewItemRow).where(ReviewItemRow.id == item_id)).first()
            if item is None:
                raise NotFoundError(f"no review item {item_id}; `sentiforge review list DATASET` shows them")
            if item.status == "pending" or item.decided_by == by:
                raise ConflictError(f"review item {item_id} needs a first decision by someone else before a second")
            _log(conn, item, by, status, label, second=True)

    def undo_review_item(self, item_id: int, by: str) -> ReviewItemPublic:
        """Take back ``by``'s decision on an item: the sample as it was, the item pending again."""
        with self.engine.begin() as conn:
            item = conn.execute(select(ReviewItemRow).where(ReviewItemRow.id == item_id)).first()
            if item is None:
                raise NotFoundError(f"no review item {item_id}; `sentiforge review list DATASET` shows them")
            if item.status == "pending" or item.decided_by != by:
                raise ConflictError(f"review item {item_id} holds no decision of {by} to undo")
            if changes := _restore(item):
                conn.execute(update(SampleRow).where(SampleRow.id == item.sample_id).values(**changes))
            cleared = dict.fromkeys(("decided_by", "decided_at", "old_label", "new_label", "old_text", "new_text"))
            conn.execute(update(ReviewItemRow).where(ReviewItemRow.id == item_id).values(status="pending", **cleared))
            D = ReviewDecisionRow
            conn.execute(
                update(D)
                .where(D.item_id == item_id, D.reviewer == by, D.second.is_(False), D.undone_at.is_(None))
                .values(undone_at=utcnow())
            )
        return self.review_item(item_id)

    def review_decisions(self, dataset_id: int) -> list[tuple[int, str, str, str | None]]:
        """Standing decisions as (sample, reviewer, status, label), oldest first."""
        D = ReviewDecisionRow
        q = select(D.sample_id, D.reviewer, D.status, D.label).where(D.dataset_id == dataset_id, D.undone_at.is_(None))
        with self.session() as s:
            return [tuple(r) for r in s.execute(q.order_by(D.id)).tuples()]  # type: ignore[misc]


def _log(conn: Connection, item: Any, by: str, status: str, label: str | None, *, second: bool = False) -> None:
    conn.execute(
        insert(ReviewDecisionRow).values(
            item_id=item.id,
            dataset_id=item.dataset_id,
            sample_id=item.sample_id,
            reviewer=by,
            status=status,
            label=label,
            second=second,
            created_at=utcnow(),
        )
    )
