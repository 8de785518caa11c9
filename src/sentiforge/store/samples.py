"""Samples in the store: streamed in and out in batches, counted, split.

Nothing here holds a whole dataset in memory: :meth:`SampleTables.iter_samples` pages by id.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from sentiforge.errors import NotFoundError, StoreError
from sentiforge.samples import Provenance, Sample, text_hash
from sentiforge.store.base import StoreBase
from sentiforge.store.schemas import SampleFilter, SamplePublic
from sentiforge.store.tables import QualityRecordRow, QualityRunRow, ReviewItemRow, SampleRow, utcnow

COUNT_BY = {"label", "split", "status", "strategy", "reason", "language", "model", "backend", "job_id"}


def sample_fields(row: SampleRow) -> dict[str, Any]:
    """A sample row as the fields of :class:`Sample`."""
    return {
        "id": row.id,
        "text": row.text,
        "label": row.label,
        "labels": row.labels,
        "aspects": row.aspects,
        "language": row.language,
        "rationale": row.rationale,
        "attributes": row.attributes or {},
        "split": row.split,
        "status": row.status,
        "reason": row.reason,
        "provenance": Provenance(
            strategy=row.strategy,
            backend=row.backend,
            model=row.model,
            template=row.template,
            template_hash=row.template_hash,
            params=row.params or {},
            parent_id=row.parent_id,
            prompt_tokens=row.prompt_tokens,
            completion_tokens=row.completion_tokens,
            cost=row.cost,
        ),
    }


def sample_values(
    sample: Sample, dataset_id: int, job_id: int | None = None, slot: str | None = None
) -> dict[str, Any]:
    p = sample.provenance
    return {
        "dataset_id": dataset_id,
        "job_id": job_id,
        "slot": slot,
        "status": sample.status,
        "reason": sample.reason,
        "text": sample.text,
        "text_hash": text_hash(sample.text),
        "label": sample.label,
        "labels": sample.labels,
        "aspects": [a.model_dump() for a in sample.aspects] if sample.aspects else None,
        "language": sample.language,
        "rationale": sample.rationale,
        "attributes": sample.attributes,
        "split": sample.split,
        "parent_id": p.parent_id,
        "strategy": p.strategy,
        "backend": p.backend,
        "model": p.model,
        "template": p.template,
        "template_hash": p.template_hash,
        "params": p.params,
        "prompt_tokens": p.prompt_tokens,
        "completion_tokens": p.completion_tokens,
        "cost": p.cost,
        "created_at": utcnow(),
    }


def _like_escaped(text: str) -> str:
    """``text`` matched literally by LIKE: its % and _ are not wildcards."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class SampleTables(StoreBase):
    def _sample_rows(
        self, dataset_id: int, status: str | None, split: str | None, after: int, limit: int
    ) -> list[SampleRow]:
        """A page of sample rows with ids above ``after``, in id order."""
        q = select(SampleRow).where(SampleRow.dataset_id == dataset_id, SampleRow.id > after)
        if status is not None:
            q = q.where(SampleRow.status == status)
        if split is not None:
            q = q.where(SampleRow.split == split)
        with self.session() as s:
            return list(s.scalars(q.order_by(SampleRow.id).limit(limit)))

    def add_samples(self, dataset_id: int, samples: Iterable[Sample], *, batch: int = 1000) -> int:
        """Insert samples in batches, all in one transaction: a failure (in the database, or an
        exception raised by the ``samples`` iterator itself) stores none of them."""
        n = 0
        try:
            with self.engine.begin() as conn:
                rows = (sample_values(sample, dataset_id) for sample in samples)
                while chunk := list(itertools.islice(rows, batch)):
                    conn.execute(insert(SampleRow), chunk)
                    n += len(chunk)
        except SQLAlchemyError as exc:
            raise StoreError(f"could not add samples to the store at {self.safe_url}: {exc}") from exc
        return n

    def iter_samples(
        self,
        dataset_id: int,
        *,
        status: str | None = "accepted",
        split: str | None = None,
        batch: int = 2000,
    ) -> Iterator[Sample]:
        """Stream samples in id order, a batch at a time."""
        last = 0
        while True:
            rows = self._sample_rows(dataset_id, status, split, last, batch)
            if not rows:
                return
            for row in rows:
                yield Sample(**sample_fields(row))
            last = rows[-1].id

    def samples(self, dataset_id: int, **kw: Any) -> list[Sample]:
        return list(self.iter_samples(dataset_id, **kw))

    def sample_page(
        self,
        dataset_id: int,
        *,
        status: str | None = "accepted",
        split: str | None = None,
        after: int = 0,
        limit: int = 100,
    ) -> list[SamplePublic]:
        """One page of samples with ids above ``after``, in id order (pass the last id for the next)."""
        rows = self._sample_rows(dataset_id, status, split, after, limit)
        return [_public(r) for r in rows]

    def find_samples(
        self, dataset_id: int, where: SampleFilter | None = None, *, after: int = 0, limit: int = 100
    ) -> list[SamplePublic]:
        """A filtered page of samples (ids above ``after``), each with the score of the
        dataset's latest quality run and its review item's status."""
        f = where or SampleFilter()
        latest = select(func.max(QualityRunRow.id)).where(QualityRunRow.dataset_id == dataset_id).scalar_subquery()
        q = (
            select(SampleRow, QualityRecordRow.score, ReviewItemRow.status)
            .select_from(SampleRow)
            .outerjoin(
                QualityRecordRow, (QualityRecordRow.sample_id == SampleRow.id) & (QualityRecordRow.run_id == latest)
            )
            .outerjoin(ReviewItemRow, ReviewItemRow.sample_id == SampleRow.id)
            .where(SampleRow.dataset_id == dataset_id, SampleRow.id > after)
        )
        for column, value in (
            (SampleRow.status, None if f.status == "any" else f.status),
            (SampleRow.label, f.label),
            (SampleRow.strategy, f.strategy),
            (SampleRow.split, f.split),
            (ReviewItemRow.status, f.review),
        ):
            if value is not None:
                q = q.where(column == value)
        if f.text:
            q = q.where(SampleRow.text.ilike(f"%{_like_escaped(f.text)}%", escape="\\"))
        if f.min_score is not None:
            q = q.where(QualityRecordRow.score >= f.min_score)
        if f.max_score is not None:
            q = q.where(QualityRecordRow.score <= f.max_score)
        with self.session() as s:
            rows = s.execute(q.order_by(SampleRow.id).limit(limit)).all()
        return [_public(r, quality_score=score, review=state) for r, score, state in rows]

    def samples_since(self, seconds: float) -> int:
        """Samples written in the last ``seconds`` (every dataset; for metrics)."""
        from datetime import timedelta

        since = utcnow() - timedelta(seconds=seconds)
        with self.session() as s:
            return s.scalar(select(func.count()).select_from(SampleRow).where(SampleRow.created_at >= since)) or 0

    def get_sample(self, sample_id: int) -> Sample:
        with self.session() as s:
            row = s.get(SampleRow, sample_id)
        if row is None:
            raise NotFoundError(f"no sample with id {sample_id}")
        return Sample(**sample_fields(row))

    def count(self, dataset_id: int, *, status: str | None = "accepted", by: str | None = None) -> Any:
        """A count, or counts grouped by a column (label, split, status, strategy, reason, language)."""
        with self.session() as s:
            if by is None:
                q = select(func.count()).select_from(SampleRow).where(SampleRow.dataset_id == dataset_id)
                if status is not None:
                    q = q.where(SampleRow.status == status)
                return s.scalar(q) or 0
            if by not in COUNT_BY:
                raise StoreError(f"cannot count by {by!r}; choose one of {sorted(COUNT_BY)}")
            col = getattr(SampleRow, by)
            grouped = select(col, func.count()).where(SampleRow.dataset_id == dataset_id).group_by(col)
            if status is not None:
                grouped = grouped.where(SampleRow.status == status)
            return {key: n for key, n in s.execute(grouped)}

    def set_splits(self, assignments: Iterable[tuple[int, str | None]], *, batch: int = 5000) -> int:
        """Set the split of samples by id, in one transaction; returns how many rows changed."""
        stmt = update(SampleRow).where(SampleRow.id == bindparam("sample_id")).values(split=bindparam("new_split"))
        params = ({"sample_id": i, "new_split": sp} for i, sp in assignments)
        changed = 0
        with self.engine.begin() as conn:
            while chunk := list(itertools.islice(params, batch)):
                changed += conn.execute(stmt, chunk).rowcount
        return changed

    def dataset_counts(self) -> dict[int, dict[str, int]]:
        """Samples per dataset and status, for listings: {dataset_id: {"accepted": n, ...}}."""
        by = (SampleRow.dataset_id, SampleRow.status)
        q = select(*by, func.count()).group_by(*by)
        out: dict[int, dict[str, int]] = {}
        with self.session() as s:
            for dataset_id, status, n in s.execute(q):
                out.setdefault(dataset_id, {})[status] = n
        return out


def _public(row: SampleRow, **extra: Any) -> SamplePublic:
    """A sample row as callers see it, with where it belongs and what was said of it."""
    return SamplePublic(
        **sample_fields(row), dataset_id=row.dataset_id, job_id=row.job_id, created_at=row.created_at, **extra
    )
