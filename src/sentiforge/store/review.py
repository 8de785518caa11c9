"""The review queue's table: samples queued by the gate, each decided once by a person.

The rules (who must be named, what a reject or relabel does to the sample) live in
``quality/review.py``; here a decision and its change to the sample commit together, and an
item decided meanwhile by someone else is refused.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from sentiforge.errors import ConflictError, NotFoundError, StoreError
from sentiforge.samples import text_hash
from sentiforge.store.base import StoreBase
from sentiforge.store.models import ReviewItemRow, SampleRow, utcnow
from sentiforge.store.schemas import ReviewDecision, ReviewItemPublic

SAMPLE_CHANGES = {"status", "reason", "label", "text"}


def _public(item: ReviewItemRow, sample: SampleRow) -> ReviewItemPublic:
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
    )


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
        q = select(ReviewItemRow, SampleRow).join(SampleRow, SampleRow.id == ReviewItemRow.sample_id).where(*where)
        with self.session() as s:
            rows = s.execute(q.order_by(*order).limit(limit)).tuples().all()
        return [_public(item, sample) for item, sample in rows]

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
        return self.review_item(item_id)
