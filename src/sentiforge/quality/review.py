"""The human review queue: samples the gate was unsure of (low score) plus a random audit
share, each decided by a named person: approve, reject, relabel or edit.

Every decision records who and when, and the old and new value, and is applied to the
sample in the same transaction: a rejected sample turns ``rejected`` with the reason
``review: rejected by WHO``, a relabel changes its label (validated against the dataset's
scheme), an edit its text. A decided item cannot be decided again (make a new edit instead).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from sentiforge.errors import ConfigError, StoreError
from sentiforge.samples import text_hash
from sentiforge.store import Store
from sentiforge.store.models import ReviewItemRow, SampleRow, utcnow

STATUSES = ("pending", "approved", "rejected", "relabelled", "edited")


@dataclass(frozen=True)
class ReviewView:
    """A review item with its sample, as a reviewer sees it."""

    id: int
    sample_id: int
    status: str
    queued_reason: str
    score: float | None
    text: str
    label: str | None
    decided_by: str | None
    decided_at: datetime | None
    note: str | None

    def as_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["decided_at"] = self.decided_at.isoformat() if self.decided_at else None
        return out


def _view(item: ReviewItemRow, sample: SampleRow) -> ReviewView:
    return ReviewView(
        item.id,
        item.sample_id,
        item.status,
        item.queued_reason,
        item.score,
        sample.text,
        sample.label,
        item.decided_by,
        item.decided_at,
        item.note,
    )


class ReviewQueue:
    def __init__(self, store: Store) -> None:
        self.store = store

    def _select(self) -> Any:
        return select(ReviewItemRow, SampleRow).join(SampleRow, SampleRow.id == ReviewItemRow.sample_id)

    def next(self, dataset: str, n: int = 1) -> list[ReviewView]:
        """The pending items most in need of a look: lowest score first, then oldest."""
        dataset_id = self.store.dataset_id(dataset)
        q = (
            self._select()
            .where(ReviewItemRow.dataset_id == dataset_id, ReviewItemRow.status == "pending")
            .order_by(ReviewItemRow.score.asc().nulls_last(), ReviewItemRow.id)
            .limit(n)
        )
        with self.store.session() as s:
            return [_view(i, smp) for i, smp in s.execute(q).all()]

    def list(self, dataset: str, *, status: str | None = None, limit: int = 100) -> list[ReviewView]:
        if status is not None and status not in STATUSES:
            raise ConfigError(f"unknown review status {status!r}; choose one of {list(STATUSES)}")
        dataset_id = self.store.dataset_id(dataset)
        q = self._select().where(ReviewItemRow.dataset_id == dataset_id)
        if status:
            q = q.where(ReviewItemRow.status == status)
        with self.store.session() as s:
            return [_view(i, smp) for i, smp in s.execute(q.order_by(ReviewItemRow.id).limit(limit)).all()]

    def counts(self, dataset: str) -> dict[str, int]:
        dataset_id = self.store.dataset_id(dataset)
        with self.store.session() as s:
            rows = s.execute(
                select(ReviewItemRow.status, func.count())
                .where(ReviewItemRow.dataset_id == dataset_id)
                .group_by(ReviewItemRow.status)
            ).all()
        return {status: n for status, n in rows}

    def get(self, item_id: int) -> ReviewView:
        with self.store.session() as s:
            row = s.execute(self._select().where(ReviewItemRow.id == item_id)).first()
        if row is None:
            raise StoreError(f"no review item {item_id}; `sentiforge review list DATASET` shows them")
        return _view(*row)

    # -- decisions ------------------------------------------------------------------
    def approve(self, item_id: int, *, by: str, note: str | None = None) -> ReviewView:
        return self._decide(item_id, "approved", by, note, {})

    def reject(self, item_id: int, *, by: str, note: str | None = None) -> ReviewView:
        reason = f"review: rejected by {by.strip()}" + (f" ({note})" if note else "")
        return self._decide(item_id, "rejected", by, note, {"status": "rejected", "reason": reason})

    def relabel(self, item_id: int, label: str, *, by: str, note: str | None = None) -> ReviewView:
        item = self.get(item_id)
        scheme = self.store.scheme(self._dataset_of(item_id))
        new = scheme.normalize(label)  # LabelError names the valid labels
        return self._decide(item_id, "relabelled", by, note, {"label": new}, old_label=item.label, new_label=new)

    def edit(self, item_id: int, text: str, *, by: str, note: str | None = None) -> ReviewView:
        if not text.strip():
            raise ConfigError("an edit needs a non-empty text")
        item = self.get(item_id)
        values = {"text": text, "text_hash": text_hash(text)}
        return self._decide(item_id, "edited", by, note, values, old_text=item.text, new_text=text)

    def _dataset_of(self, item_id: int) -> int:
        with self.store.session() as s:
            found = s.scalar(select(ReviewItemRow.dataset_id).where(ReviewItemRow.id == item_id))
        if found is None:
            raise StoreError(f"no review item {item_id}")
        return found

    def _decide(
        self, item_id: int, status: str, by: str, note: str | None, sample_values: dict[str, Any], **extra: Any
    ) -> ReviewView:
        if not by or not by.strip():
            raise ConfigError("a review decision needs the reviewer's name (--by WHO)")
        with self.store.engine.begin() as conn:
            item = conn.execute(select(ReviewItemRow).where(ReviewItemRow.id == item_id)).first()
            if item is None:
                raise StoreError(f"no review item {item_id}; `sentiforge review list DATASET` shows them")
            if item.status != "pending":
                when = f"{item.decided_at:%Y-%m-%d %H:%M}" if item.decided_at else "?"
                raise StoreError(f"review item {item_id} was already {item.status} by {item.decided_by} at {when}")
            result = conn.execute(
                update(ReviewItemRow)
                .where(ReviewItemRow.id == item_id, ReviewItemRow.status == "pending")
                .values(status=status, decided_by=by.strip(), decided_at=utcnow(), note=note, **extra)
            )
            if result.rowcount != 1:  # someone decided it between our read and our write
                raise StoreError(f"review item {item_id} was decided by someone else just now; look at it again")
            if sample_values:
                conn.execute(update(SampleRow).where(SampleRow.id == item.sample_id).values(**sample_values))
        return self.get(item_id)
