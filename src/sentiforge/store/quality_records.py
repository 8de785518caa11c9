"""Quality runs and records: what each pass of the gate decided about each sample.

The gate's logic (checks, scores, what a reject's reason says, which samples get their
status back) lives in ``quality/``; it hands each batch here as :class:`QualityRecordCreate`
and the records, the samples' new statuses and the new review items commit together.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update

from sentiforge.errors import NotFoundError
from sentiforge.store.base import StoreBase
from sentiforge.store.review_items import enqueue
from sentiforge.store.schemas import QualityRecordCreate, QualityRejectPublic, QualityRunPublic
from sentiforge.store.tables import QualityRecordRow, QualityRunRow, SampleRow, utcnow

Q = QualityRecordRow


class QualityTables(StoreBase):
    def start_quality_run(
        self, dataset_id: int, config: dict[str, Any], *, holdout: str | None = None, seeds: str | None = None
    ) -> int:
        with self.session() as s:
            row = QualityRunRow(dataset_id=dataset_id, config=config, holdout=holdout, seeds=seeds, counts={})
            s.add(row)
            s.commit()
            return row.id

    def finish_quality_run(
        self, run_id: int, counts: dict[str, Any], *, status: str = "completed", error: str | None = None
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(QualityRunRow)
                .where(QualityRunRow.id == run_id)
                .values(status=status, counts=counts, error=error, finished_at=utcnow())
            )

    def quality_run(self, run_id: int) -> QualityRunPublic:
        with self.session() as s:
            row = s.get(QualityRunRow, run_id)
        if row is None:
            raise NotFoundError(f"no quality run {run_id}")
        return QualityRunPublic.model_validate(row)

    def latest_quality_run(self, dataset_id: int) -> QualityRunPublic:
        q = select(QualityRunRow).where(QualityRunRow.dataset_id == dataset_id).order_by(QualityRunRow.id.desc())
        with self.session() as s:
            row = s.scalar(q.limit(1))
        if row is None:
            raise NotFoundError("no quality run for this dataset yet; run `sentiforge quality run DATASET` first")
        return QualityRunPublic.model_validate(row)

    def quality_run_summaries(self, dataset_id: int) -> list[dict[str, Any]]:
        """Per completed-or-not run, oldest first: records by status, rejects by check, accepted
        labels, judge agreement (records whose judge named the sample's label), mean score, and
        the text measures the run kept (diversity, distance to seeds) when it kept them."""
        runs = select(QualityRunRow.id, QualityRunRow.created_at, QualityRunRow.counts).where(
            QualityRunRow.dataset_id == dataset_id
        )
        out = []
        with self.session() as s:
            for run_id, created, counts in s.execute(runs.order_by(QualityRunRow.id)).tuples():
                rows = s.execute(
                    select(Q.status, Q.rejected_by, Q.score, Q.checks, SampleRow.label)
                    .join(SampleRow, SampleRow.id == Q.sample_id)
                    .where(Q.run_id == run_id)
                ).tuples()
                texts = (counts or {}).get("texts") or {}  # diversity and seed distance (quality/summary.py)
                out.append({**_summary(run_id, created, list(rows)), **texts})
        return out

    def quality_reject_counts(self) -> dict[str, int]:
        """Rejects by the check that made them, over every quality run (for metrics)."""
        q = select(Q.rejected_by, func.count()).where(Q.status == "rejected").group_by(Q.rejected_by)
        with self.session() as s:
            return {str(check or "unknown"): n for check, n in s.execute(q)}

    def write_quality_records(self, run_id: int, dataset_id: int, records: Sequence[QualityRecordCreate]) -> None:
        """Records, sample statuses and new review items of one batch, in one transaction."""
        now = utcnow()
        keep = {"sample_id", "status", "score", "reason", "rejected_by", "checks"}
        extra = {"run_id": run_id, "dataset_id": dataset_id, "created_at": now}
        rows = [{**r.model_dump(include=keep), **extra} for r in records]
        changes = [
            {"b_id": r.sample_id, "b_status": r.sample_status, "b_reason": r.sample_reason}
            for r in records
            if r.sample_status is not None
        ]
        reviews = [{"sample_id": r.sample_id, "queued_reason": r.review, "score": r.score} for r in records if r.review]
        table: Any = SampleRow.__table__
        with self.engine.begin() as conn:
            if rows:
                conn.execute(insert(QualityRecordRow), rows)
            if changes:
                conn.execute(
                    update(table)
                    .where(table.c.id == bindparam("b_id"))
                    .values(status=bindparam("b_status"), reason=bindparam("b_reason")),
                    changes,
                )
            enqueue(conn, dataset_id, run_id, reviews)

    def quality_record_counts(self, run_id: int) -> dict[str, Any]:
        """Accepted/rejected totals, rejects per check and the mean score of one run."""
        rejected = (Q.run_id == run_id) & (Q.status == "rejected")
        with self.session() as s:
            by_status = s.execute(select(Q.status, func.count()).where(Q.run_id == run_id).group_by(Q.status))
            by_check = s.execute(select(Q.rejected_by, func.count()).where(rejected).group_by(Q.rejected_by))
            counts = {"by_status": dict(by_status.tuples().all()), "rejected_by_check": dict(by_check.tuples().all())}
            mean = s.scalar(select(func.avg(Q.score)).where(Q.run_id == run_id))
        return {**counts, "mean_score": round(float(mean or 0.0), 4)}

    def iter_quality_rejects(
        self, run_id: int, *, check: str | None = None, batch: int = 1000
    ) -> Iterator[QualityRejectPublic]:
        """Rejected samples of a run with their reason and every check's result, in record order."""
        last = 0
        while True:
            q = (
                select(Q, SampleRow)
                .join(SampleRow, SampleRow.id == Q.sample_id)
                .where(Q.run_id == run_id, Q.status == "rejected", Q.id > last)
            )
            if check:
                q = q.where(Q.rejected_by == check)
            with self.session() as s:
                rows = s.execute(q.order_by(Q.id).limit(batch)).tuples().all()
            if not rows:
                return
            for rec, sample in rows:
                yield QualityRejectPublic(
                    sample_id=sample.id,
                    text=sample.text,
                    label=sample.label,
                    rejected_by=rec.rejected_by,
                    reason=rec.reason,
                    score=rec.score,
                    checks=rec.checks,
                )
            last = rows[-1][0].id


def _summary(run_id: int, created: Any, rows: list[tuple[Any, ...]]) -> dict[str, Any]:
    from collections import Counter

    total = len(rows) or 1
    judged = [(c.get("consistency", {}).get("detail", {}).get("judge"), lb) for _, _, _, c, lb in rows]
    judged = [(j, lb) for j, lb in judged if j]
    return {
        "run_id": run_id,
        "created_at": created,
        "records": len(rows),
        "reject_rate": sum(st == "rejected" for st, *_ in rows) / total,
        "rejects_by_check": dict(Counter(str(rb) for st, rb, *_ in rows if st == "rejected")),
        "labels": dict(Counter(str(lb) for st, _, _, _, lb in rows if st == "accepted")),
        "judge_agreement": sum(j == lb for j, lb in judged) / len(judged) if judged else None,
        "mean_score": sum(float(sc) for _, _, sc, _, _ in rows) / total,
    }
