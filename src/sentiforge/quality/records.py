"""What a gate run writes to the store: per-sample records, sample status, rejects.

A rejected sample is never deleted: its row in ``samples`` turns ``rejected`` with the
reason ``quality: <check>: <why>`` (so training and export skip it), and its record keeps
every check's result. A later gate run re-examines samples the gate itself rejected (and
only those: a person's review decision or a generation reject stands).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from sentiforge.errors import DataError, StoreError
from sentiforge.quality.gate import QualityRecord
from sentiforge.samples import Sample
from sentiforge.store import Store
from sentiforge.store.schemas import QualityRecordCreate, QualityRejectPublic

PREFIX = "quality: "


def gate_input(store: Store, dataset_id: int) -> Iterator[Sample]:
    """Samples the gate should (re)examine: accepted ones, and ones an earlier run rejected."""
    for sample in store.iter_samples(dataset_id, status=None):
        if sample.status == "accepted" or (sample.reason or "").startswith(PREFIX):
            yield sample


def write_records(store: Store, run_id: int, dataset_id: int, records: Sequence[QualityRecord]) -> None:
    """Records, sample status and new review items of one batch, in one transaction."""
    store.write_quality_records(run_id, dataset_id, [_create(r) for r in records])


def _create(r: QualityRecord) -> QualityRecordCreate:
    """A reject turns its sample ``rejected`` with the gate's reason; a sample an earlier run
    rejected that this run accepts gets its accepted status back; others stay as they are."""
    if r.sample.id is None:
        raise StoreError("the gate can only record samples that are in the store (they need an id)")
    status: str | None = None
    reason: str | None = None
    if r.status == "rejected":
        status, reason = "rejected", f"{PREFIX}{r.rejected_by}: {r.reason}"
    elif r.status == "accepted" and r.sample.status == "rejected":
        status = "accepted"
    return QualityRecordCreate(
        sample_id=r.sample.id,
        status=r.status,
        score=r.score,
        reason=r.reason,
        rejected_by=r.rejected_by,
        checks=r.checks,
        sample_status=status,
        sample_reason=reason,
        review=r.review or None,
    )


def export_rejects(rejects: Iterable[QualityRejectPublic], path: Path) -> int:
    """Write rejects (``store.iter_quality_rejects``) as JSON Lines (.jsonl) or CSV (.csv); returns how many."""
    n = 0
    suffix = path.suffix.lower()
    if suffix not in {".jsonl", ".csv"}:
        raise DataError(f"cannot export rejects to {path.name}: use a .jsonl or .csv file name")
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = None
        for reject in rejects:
            row = reject.model_dump()
            if suffix == ".jsonl":
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
            else:
                if writer is None:
                    writer = csv.DictWriter(f, fieldnames=list(row))
                    writer.writeheader()
                writer.writerow({**row, "checks": json.dumps(row["checks"], ensure_ascii=False)})
            n += 1
    return n
