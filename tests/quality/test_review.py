"""The review queue: approve / reject / relabel / edit, with who and when."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sentiforge.errors import ConfigError, LabelError, StoreError
from sentiforge.labels import get_scheme
from sentiforge.quality.gate import QualityRecord
from sentiforge.quality.records import write_records
from sentiforge.quality.review_queue import ReviewQueue
from sentiforge.samples import Sample
from sentiforge.store import Store


@pytest.fixture
def queue(tmp_path: Path, tweets: list[Sample]) -> Iterator[ReviewQueue]:
    with Store(f"sqlite:///{tmp_path / 'r.db'}") as store:
        yield _queued(store, tweets)


def _queued(store: Store, tweets: list[Sample]) -> ReviewQueue:
    dataset_id = store.create_dataset("syn", get_scheme("three_class"))
    store.add_samples(dataset_id, tweets[:6])
    samples = store.samples(dataset_id)
    run_id = store.start_quality_run(dataset_id, {})
    recs = [
        QualityRecord(s, "accepted", 0.1 * i, None, None, {}, review="low score" if i < 5 else None)
        for i, s in enumerate(samples)
    ]
    write_records(store, run_id, dataset_id, recs)
    write_records(store, store.start_quality_run(dataset_id, {}), dataset_id, recs)  # no dupes
    return ReviewQueue(store)


def test_next_gives_the_lowest_score_first_and_items_are_not_queued_twice(queue: ReviewQueue) -> None:
    assert queue.counts("syn") == {"pending": 5}
    first, second = queue.next("syn", n=2)
    assert (first.score, second.score) == (0.0, 0.1)


def test_decisions_apply_to_the_sample_and_record_who_and_when(queue: ReviewQueue) -> None:
    a, b, c, d, _ = queue.next("syn", n=5)
    store = queue.store
    assert queue.approve(a.id, by="alice").decided_by == "alice"
    rejected = queue.reject(b.id, by="bob", note="off topic")
    assert rejected.status == "rejected" and rejected.decided_at is not None
    assert store.get_sample(b.sample_id).status == "rejected"
    assert store.get_sample(b.sample_id).reason == "review: rejected by bob (off topic)"
    assert queue.relabel(c.id, "NEG", by="carol").label == "negative"  # aliases work
    edited = queue.edit(d.id, "A fixed text.", by="dan")
    assert edited.text == "A fixed text." and store.get_sample(d.sample_id).text == "A fixed text."
    assert queue.counts("syn") == {"approved": 1, "rejected": 1, "relabelled": 1, "edited": 1, "pending": 1}


def test_bad_decisions_are_clear_errors(queue: ReviewQueue) -> None:
    item = queue.next("syn")[0]
    with pytest.raises(ConfigError, match="reviewer's name"):
        queue.approve(item.id, by=" ")
    with pytest.raises(LabelError, match="unknown label 'great'"):
        queue.relabel(item.id, "great", by="alice")
    queue.approve(item.id, by="alice")
    with pytest.raises(StoreError, match="already approved by alice"):
        queue.reject(item.id, by="bob")
    with pytest.raises(StoreError, match="no review item 999"):
        queue.approve(999, by="bob")


def test_undo_restores_the_sample_and_the_log_keeps_standing_decisions(queue: ReviewQueue) -> None:
    a, b, c, *_ = queue.next("syn", n=5)
    store = queue.store
    old_label = store.get_sample(c.sample_id).label
    queue.reject(a.id, by="alice")
    queue.relabel(c.id, "negative" if old_label != "negative" else "positive", by="alice")
    assert queue.undo(a.id, by="alice").status == "pending"
    assert store.get_sample(a.sample_id).status == "accepted" and store.get_sample(a.sample_id).reason is None
    queue.undo(c.id, by="alice")
    assert store.get_sample(c.sample_id).label == old_label
    with pytest.raises(StoreError, match="no decision of bob"):
        queue.undo(b.id, by="bob")
    queue.approve(a.id, by="bob")
    assert [(r, s) for _, r, s, _ in store.review_decisions(store.dataset_id("syn"))] == [("bob", "approved")]


def test_filters_and_agreement(queue: ReviewQueue) -> None:
    from sentiforge.quality.review_queue import cohen_kappa
    from sentiforge.store.schemas import ReviewFilter

    items = queue.filter("syn", ReviewFilter(max_score=0.25))
    assert [i.score for i in items] == [0.0, 0.1, 0.2]
    assert queue.filter("syn", ReviewFilter(reason="low")) and not queue.filter("syn", ReviewFilter(reason="zzz"))
    assert queue.agreement("syn") == {"pairs": 0, "kappa": None}
    a, b, c, d = (i.id for i in queue.next("syn", n=4))
    for item in (a, b, c):
        queue.approve(item, by="alice")
    queue.reject(d, by="alice")
    for item in (a, b):
        queue.second(item, "approved", by="bob")
    queue.second(c, "rejected", by="bob")
    queue.second(d, "rejected", by="bob")
    with pytest.raises(StoreError, match="first decision by someone else"):
        queue.second(a, "approved", by="alice")
    got = queue.agreement("syn")
    assert got["pairs"] == 4 and got["kappa"] == cohen_kappa([("x", "x"), ("x", "x"), ("x", "r"), ("r", "r")])
    assert cohen_kappa([("a", "a"), ("b", "b")]) == 1.0


def test_lease_next_hands_out_each_item_once_and_a_lease_blocks_others(queue: ReviewQueue) -> None:
    from sentiforge.errors import ConflictError

    mine = queue.lease_next("syn", 3, by="ann")
    theirs = queue.lease_next("syn", 3, by="ben")
    assert len(mine) == 3 and len(theirs) == 2 and not {i.id for i in mine} & {i.id for i in theirs}
    assert {i.leased_by for i in mine} == {"ann"}
    with pytest.raises(ConflictError, match="leased to ann"):
        queue.approve(mine[0].id, by="ben")
    assert queue.approve(mine[0].id, by="ann").leased_by is None  # the decision ends the lease
    assert queue.release([mine[1].id, theirs[0].id], by="ann") == 1  # only one's own
    with pytest.raises(ConfigError, match="1 to 3600 seconds"):
        queue.lease([mine[2].id], by="ann", seconds=0)


def test_bulk_shares_one_id_and_is_undone_together(queue: ReviewQueue) -> None:
    from sentiforge.errors import ConflictError

    ids = [i.id for i in queue.next("syn", 5)]
    done = queue.bulk(ids[:3], "reject", by="ann", reason="duplicate")
    assert done.decided == ids[:3] and not done.failed
    assert {queue.get(i).bulk_id for i in ids[:3]} == {done.bulk_id}
    with pytest.raises(ConflictError, match="made by ann"):
        queue.undo_bulk(done.bulk_id, by="ben")
    with pytest.raises(ConfigError, match="approves or rejects"):
        queue.bulk(ids[3:], "relabel", by="ann")
    assert queue.undo_bulk(done.bulk_id, by="ann") == sorted(ids[:3])
    assert queue.counts("syn") == {"pending": 5}
