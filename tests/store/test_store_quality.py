"""Quality runs, records and the review queue in the store, on SQLite and PostgreSQL: what
callers get back are public schemas, and a batch's writes commit together."""

from __future__ import annotations

import pytest

from sentiforge.errors import StoreError
from sentiforge.labels import BUILTIN
from sentiforge.samples import Sample
from sentiforge.store import Store
from sentiforge.store.schemas import (
    QualityRecordCreate,
    QualityRejectPublic,
    QualityRunPublic,
    ReviewDecision,
    ReviewItemPublic,
)

THREE = BUILTIN["three_class"]


@pytest.fixture
def ids(store: Store) -> tuple[int, list[int]]:
    ds = store.create_dataset("syn", THREE)
    store.add_samples(ds, [Sample(text=f"sample {i}", label=THREE.labels[i % 3]) for i in range(4)])
    return ds, [s.id for s in store.samples(ds) if s.id is not None]


def _batch(samples: list[int]) -> list[QualityRecordCreate]:
    a, b, c, d = samples
    return [
        QualityRecordCreate(sample_id=a, status="accepted", score=0.9),
        QualityRecordCreate(sample_id=b, status="accepted", score=0.2, review="low score"),
        QualityRecordCreate(
            sample_id=c,
            status="rejected",
            score=0.1,
            reason="too short",
            rejected_by="filters",
            checks={"filters": {"ok": False}},
            sample_status="rejected",
            sample_reason="quality: filters: too short",
        ),
        QualityRecordCreate(sample_id=d, status="accepted", score=0.5, review="audit"),
    ]


def test_runs_records_and_rejects(store: Store, ids: tuple[int, list[int]]) -> None:
    ds, samples = ids
    run = store.start_quality_run(ds, {"batch_size": 4}, holdout="test:test")
    store.write_quality_records(run, ds, _batch(samples))
    store.finish_quality_run(run, {"examined": 4})
    latest = store.latest_quality_run(ds)
    assert isinstance(latest, QualityRunPublic) and latest == store.quality_run(run)
    assert (latest.status, latest.holdout, latest.counts) == ("completed", "test:test", {"examined": 4})
    assert latest.finished_at is not None and latest.config == {"batch_size": 4}
    counts = store.quality_record_counts(run)
    assert counts == {
        "by_status": {"accepted": 3, "rejected": 1},
        "rejected_by_check": {"filters": 1},
        "mean_score": 0.425,
    }
    (reject,) = store.iter_quality_rejects(run)
    assert reject == QualityRejectPublic(
        sample_id=samples[2],
        text="sample 2",
        label="positive",
        rejected_by="filters",
        reason="too short",
        score=0.1,
        checks={"filters": {"ok": False}},
    )
    assert list(store.iter_quality_rejects(run, check="near_dup")) == []
    assert store.get_sample(samples[2]).reason == "quality: filters: too short"
    assert store.count(ds) == 3
    with pytest.raises(StoreError, match="no quality run 999"):
        store.quality_run(999)
    with pytest.raises(StoreError, match="no quality run for this dataset"):
        store.latest_quality_run(store.create_dataset("other", THREE))


def test_review_queue_orders_decides_once_and_changes_the_sample(store: Store, ids: tuple[int, list[int]]) -> None:
    ds, samples = ids
    store.write_quality_records(store.start_quality_run(ds, {}), ds, _batch(samples))
    store.write_quality_records(store.start_quality_run(ds, {}), ds, _batch(samples))  # not queued twice
    assert store.review_counts(ds) == {"pending": 2}
    first, second = store.next_review_items(ds, 2)
    assert isinstance(first, ReviewItemPublic) and (first.score, second.score) == (0.2, 0.5)
    assert (first.dataset_id, first.text, first.queued_reason) == (ds, "sample 1", "low score")
    decision = ReviewDecision(
        status="edited", by="ann", sample={"text": "fixed"}, old_text="sample 1", new_text="fixed"
    )
    decided = store.decide_review_item(first.id, decision)
    assert (decided.status, decided.decided_by, decided.text) == ("edited", "ann", "fixed")
    assert decided.decided_at is not None and store.get_sample(first.sample_id).text == "fixed"
    with pytest.raises(StoreError, match="already edited by ann"):
        store.decide_review_item(first.id, ReviewDecision(status="approved", by="bob"))
    with pytest.raises(StoreError, match="cannot change"):
        store.decide_review_item(second.id, ReviewDecision(status="edited", by="bob", sample={"split": "x"}))
    with pytest.raises(StoreError, match="no review item 999"):
        store.review_item(999)
    assert [i.id for i in store.list_review_items(ds, status="pending")] == [second.id]
    assert [i.id for i in store.list_review_items(ds)] == [first.id, second.id]
