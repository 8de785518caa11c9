"""Quality records in the store: runs, per-sample records, sample status, rejects.

A rejected sample is never deleted: its row in ``samples`` turns ``rejected`` with the
reason ``quality: <check>: <why>`` (so training and export skip it), and its record keeps
every check's result. A later gate run re-examines samples the gate itself rejected (and
only those: a person's review decision or a generation reject stands).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update

from sentiforge.errors import DataError, StoreError
from sentiforge.quality.gate import QualityRecord
from sentiforge.samples import Sample
from sentiforge.store import Store
from sentiforge.store.models import QualityRecordRow, QualityRunRow, ReviewItemRow, SampleRow, utcnow

PREFIX = "quality: "


def gate_input(store: Store, dataset_id: int) -> Iterator[Sample]:
    """Samples the gate should (re)examine: accepted ones, and ones an earlier run rejected."""
    for sample in store.iter_samples(dataset_id, status=None):
        if sample.status == "accepted" or (sample.reason or "").startswith(PREFIX):
            yield sample


def start_run(store: Store, dataset_id: int, config: dict[str, Any], *, holdout: str | None, seeds: str | None) -> int:
    with store.session() as s:
        row = QualityRunRow(dataset_id=dataset_id, config=config, holdout=holdout, seeds=seeds, counts={})
        s.add(row)
        s.commit()
        return row.id


def finish_run(
    store: Store, run_id: int, counts: dict[str, Any], *, status: str = "completed", error: str | None = None
) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            update(QualityRunRow)
            .where(QualityRunRow.id == run_id)
            .values(status=status, counts=counts, error=error, finished_at=utcnow())
        )


def write_records(store: Store, run_id: int, dataset_id: int, records: Sequence[QualityRecord]) -> None:
    """Records, sample status and new review items of one batch, in one transaction."""
    rows, reviews = [], []
    now = utcnow()
    for r in records:
        if r.sample.id is None:
            raise StoreError("the gate can only record samples that are in the store (they need an id)")
        rows.append(
            {
                "run_id": run_id,
                "dataset_id": dataset_id,
                "sample_id": r.sample.id,
                "status": r.status,
                "score": r.score,
                "reason": r.reason,
                "rejected_by": r.rejected_by,
                "checks": r.checks,
                "created_at": now,
            }
        )
        if r.review:
            reviews.append({"sample_id": r.sample.id, "queued_reason": r.review, "score": r.score})
    with store.engine.begin() as conn:
        if rows:
            conn.execute(insert(QualityRecordRow), rows)
        for status, reason, ids in _status_changes(records):
            for k in range(0, len(ids), 500):
                conn.execute(
                    update(SampleRow).where(SampleRow.id.in_(ids[k : k + 500])).values(status=status, reason=reason)
                )
        rejected = [
            {"b_id": r.sample.id, "b_reason": f"{PREFIX}{r.rejected_by}: {r.reason}"}
            for r in records
            if r.status == "rejected"
        ]
        if rejected:
            table: Any = SampleRow.__table__
            conn.execute(
                update(table)
                .where(table.c.id == bindparam("b_id"))
                .values(status="rejected", reason=bindparam("b_reason")),
                rejected,
            )
        _enqueue(conn, dataset_id, run_id, reviews)


def _status_changes(records: Sequence[QualityRecord]) -> list[tuple[str, str | None, list[int]]]:
    """Samples an earlier run rejected that this run accepts get their accepted status back."""
    restored = [r.sample.id for r in records if r.status == "accepted" and r.sample.status == "rejected"]
    return [("accepted", None, [i for i in restored if i is not None])] if restored else []


def _enqueue(conn: Any, dataset_id: int, run_id: int, items: list[dict[str, Any]]) -> None:
    """New review items; a sample already in the queue (pending or decided) is not queued twice."""
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


def latest_run(store: Store, dataset_id: int) -> QualityRunRow:
    with store.session() as s:
        row = s.scalar(
            select(QualityRunRow)
            .where(QualityRunRow.dataset_id == dataset_id)
            .order_by(QualityRunRow.id.desc())
            .limit(1)
        )
    if row is None:
        raise StoreError("no quality run for this dataset yet; run `sentiforge quality run DATASET` first")
    return row


def record_counts(store: Store, run_id: int) -> dict[str, Any]:
    """Accepted/rejected totals and rejects per check for one run."""
    with store.session() as s:
        by_status = dict(
            s.execute(
                select(QualityRecordRow.status, func.count())
                .where(QualityRecordRow.run_id == run_id)
                .group_by(QualityRecordRow.status)
            ).all()
        )
        by_check = dict(
            s.execute(
                select(QualityRecordRow.rejected_by, func.count())
                .where(QualityRecordRow.run_id == run_id, QualityRecordRow.status == "rejected")
                .group_by(QualityRecordRow.rejected_by)
            ).all()
        )
        mean = s.scalar(select(func.avg(QualityRecordRow.score)).where(QualityRecordRow.run_id == run_id))
    return {"by_status": by_status, "rejected_by_check": by_check, "mean_score": round(float(mean or 0.0), 4)}


def iter_rejects(store: Store, run_id: int, *, check: str | None = None, batch: int = 1000) -> Iterator[dict[str, Any]]:
    """Rejected samples of a run with their reason and every check's result, in sample order."""
    last = 0
    while True:
        q = (
            select(QualityRecordRow, SampleRow)
            .join(SampleRow, SampleRow.id == QualityRecordRow.sample_id)
            .where(QualityRecordRow.run_id == run_id, QualityRecordRow.status == "rejected", QualityRecordRow.id > last)
        )
        if check:
            q = q.where(QualityRecordRow.rejected_by == check)
        with store.session() as s:
            rows = s.execute(q.order_by(QualityRecordRow.id).limit(batch)).all()
        if not rows:
            return
        for rec, sample in rows:
            yield {
                "sample_id": sample.id,
                "text": sample.text,
                "label": sample.label,
                "rejected_by": rec.rejected_by,
                "reason": rec.reason,
                "score": rec.score,
                "checks": rec.checks,
            }
        last = rows[-1][0].id


def export_rejects(rows: Iterator[dict[str, Any]], path: Path) -> int:
    """Write rejects as JSON Lines (.jsonl) or CSV (.csv); returns how many."""
    n = 0
    suffix = path.suffix.lower()
    if suffix not in {".jsonl", ".csv"}:
        raise DataError(f"cannot export rejects to {path.name}: use a .jsonl or .csv file name")
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = None
        for row in rows:
            if suffix == ".jsonl":
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
            else:
                if writer is None:
                    writer = csv.DictWriter(f, fieldnames=list(row))
                    writer.writeheader()
                writer.writerow({**row, "checks": json.dumps(row["checks"], ensure_ascii=False)})
            n += 1
    return n
