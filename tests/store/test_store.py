"""The store on SQLite and PostgreSQL: datasets, samples, counts, jobs, the job writer, the
response cache, splits and deletion."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from sentiforge.backends.base import Completion, Usage
from sentiforge.errors import StoreError
from sentiforge.labels import BUILTIN, Aspect
from sentiforge.samples import Provenance, Sample, text_hash
from sentiforge.store import Store
from sentiforge.store.schemas import DatasetPublic, SamplePublic

THREE = BUILTIN["three_class"]


def make(n: int, *, prefix: str = "text", **fields: Any) -> list[Sample]:
    labels = THREE.labels
    return [Sample(text=f"{prefix} number {i}", label=labels[i % 3], **fields) for i in range(n)]


@pytest.fixture
def ds(store: Store) -> int:
    return store.create_dataset("real", THREE, kind="real", meta={"source": "test"})


class TestDatasets:
    def test_create_find_list_and_meta(self, store: Store, ds: int) -> None:
        assert store.dataset_id("real") == ds
        row = store.dataset("real")
        assert row.kind == "real" and row.meta == {"source": "test"}
        assert store.scheme(ds) == THREE
        other = store.create_dataset("synth", BUILTIN["emotions"])
        assert [d.name for d in store.list_datasets()] == ["real", "synth"]
        store.update_dataset_meta(other, synthetic_share=0.5)
        store.update_dataset_meta(other, recipe="r1")
        assert store.dataset(other).meta == {"synthetic_share": 0.5, "recipe": "r1"}

    def test_callers_get_public_schemas_with_counts_on_request(self, store: Store, ds: int) -> None:
        store.add_samples(ds, [*make(2), Sample(text="bad one", status="rejected", reason="short")])
        row = store.dataset(ds)
        assert isinstance(row, DatasetPublic) and row.scheme == THREE and row.counts is None
        assert row.model_dump(mode="json")["scheme"]["name"] == "three_class"
        empty = store.create_dataset("empty", THREE)
        assert [d.counts for d in store.list_datasets()] == [None, None]
        listed = store.list_datasets(counts=True)
        assert [(d.id, d.counts) for d in listed] == [(ds, {"accepted": 2, "rejected": 1}), (empty, {})]

    def test_duplicate_and_missing_names_are_clear_errors(self, store: Store, ds: int) -> None:
        with pytest.raises(StoreError, match="exists already"):
            store.create_dataset("real", THREE)
        with pytest.raises(StoreError, match="no dataset named 'nope'"):
            store.dataset_id("nope")
        with pytest.raises(StoreError, match="no dataset"):
            store.dataset(999)
        assert store.dataset_id("real") == ds  # the failed create left the first one alone


class TestSamples:
    def test_round_trip_keeps_every_field(self, store: Store, ds: int) -> None:
        store.add_samples(ds, make(1, prefix="parent"))
        parent = store.samples(ds)[0]
        sample = Sample(
            text="The screen is great but the battery dies.",
            aspects=[
                Aspect(term="screen", polarity="positive"),
                Aspect(term="battery", polarity="negative", category="power"),
            ],
            labels=["joy", "anger"],
            language="fr",
            rationale="mixed",
            attributes={"domain": "phones", "length": "short"},
            split="test",
            provenance=Provenance(
                strategy="generate",
                backend="fake",
                model="fake-1",
                template="generate.j2",
                template_hash="abc",
                params={"seed": 3},
                parent_id=parent.id,
                prompt_tokens=10,
                completion_tokens=5,
                cost=0.25,
            ),
        )
        store.add_samples(ds, [sample])
        back = store.samples(ds, split="test")[0]
        assert back.model_dump(exclude={"id"}) == sample.model_dump(exclude={"id"})
        assert back.id is not None and store.get_sample(back.id) == back

    def test_sample_pages_carry_dataset_job_and_time(self, store: Store, ds: int) -> None:
        store.add_samples(ds, make(5))
        first = store.sample_page(ds, limit=3)
        assert [s.text for s in first] == [f"text number {i}" for i in range(3)]
        assert all(isinstance(s, SamplePublic) and s.dataset_id == ds and s.job_id is None for s in first)
        rest = store.sample_page(ds, after=first[-1].id or 0, limit=3)
        assert [s.text for s in rest] == ["text number 3", "text number 4"]
        stored_only = {"dataset_id", "job_id", "created_at", "quality_score", "review"}
        assert first[0].model_dump(exclude=stored_only) == store.samples(ds)[0].model_dump()

    def test_iter_samples_streams_in_id_order_and_pages(self, store: Store, ds: int) -> None:
        store.add_samples(ds, make(25))
        it = store.iter_samples(ds, batch=7)
        first = next(it)
        store.add_samples(ds, make(3, prefix="late"))  # pages are read lazily, by id
        rest = list(it)
        texts = [first.text] + [s.text for s in rest]
        assert texts == [f"text number {i}" for i in range(25)] + [f"late number {i}" for i in range(3)]
        ids = [first.id] + [s.id for s in rest]
        assert ids == sorted(ids)

    def test_filters_and_counts(self, store: Store, ds: int) -> None:
        store.add_samples(ds, make(9, split="train"))
        store.add_samples(ds, make(3, prefix="t", split="test"))
        store.add_samples(ds, [Sample(text="bad one", status="rejected", reason="too short")])
        assert store.count(ds) == 12 and store.count(ds, status=None) == 13
        assert store.count(ds, status="rejected") == 1
        assert store.count(ds, by="label") == {"negative": 4, "neutral": 4, "positive": 4}
        assert store.count(ds, by="split") == {"train": 9, "test": 3}
        assert store.count(ds, by="status", status=None) == {"accepted": 12, "rejected": 1}
        assert store.count(ds, by="reason", status="rejected") == {"too short": 1}
        assert len(store.samples(ds, split="test")) == 3
        assert [s.reason for s in store.iter_samples(ds, status="rejected")] == ["too short"]
        assert len(store.samples(ds, status=None)) == 13
        assert store.dataset_counts() == {ds: {"accepted": 12, "rejected": 1}}
        with pytest.raises(StoreError, match="cannot count by 'text'"):
            store.count(ds, by="text")

    def test_add_samples_is_all_or_nothing(self, store: Store, ds: int) -> None:
        store.add_samples(ds, make(5, prefix="kept"))

        def broken() -> Iterator[Sample]:
            yield from make(1500)  # more than one insert batch reaches the database
            raise ValueError("row 1501 is malformed")

        with pytest.raises(ValueError, match="1501"):
            store.add_samples(ds, broken(), batch=1000)
        assert [s.text for s in store.samples(ds)] == [f"kept number {i}" for i in range(5)]

    def test_set_splits_in_batches(self, store: Store, ds: int) -> None:
        store.add_samples(ds, make(10))
        ids = [s.id for s in store.samples(ds)]
        plan = [(i, "train" if n < 6 else "test") for n, i in enumerate(ids) if i is not None]
        assert store.set_splits(plan, batch=4) == 10
        assert store.count(ds, by="split") == {"train": 6, "test": 4}
        assert store.set_splits((i, None) for i in ids[:2] if i is not None) == 2
        assert store.count(ds, by="split") == {None: 2, "train": 4, "test": 4}
        assert store.set_splits([]) == 0


class TestJobs:
    def test_create_update_list(self, store: Store, ds: int) -> None:
        job = store.create_job(ds, {"name": "r"}, target=10)
        row = store.job(job)
        assert (row.status, row.target, row.done, row.recipe) == ("queued", 10, 0, {"name": "r"})
        store.update_job(job, status="running", done=3)
        assert (store.job(job).status, store.job(job).done) == ("running", 3)
        assert store.job(job).updated_at >= row.updated_at
        assert [j.id for j in store.list_jobs()] == [job]
        with pytest.raises(StoreError, match="no job with id 999"):
            store.job(999)

    def test_writer_commits_samples_cache_and_counters_together(self, store: Store, ds: int) -> None:
        job = store.create_job(ds, {}, target=3)
        writer = store.writer(ds, job, "fake:m")
        writer.cache.put("k1", Completion(text="answer", model="m", usage=Usage(prompt_tokens=3, completion_tokens=4)))
        for i, s in enumerate(make(2)):
            writer.add(s, f"0:{i}")
        writer.add(Sample(text="nope", status="rejected", reason="bad"), "0:2:0")
        assert len(writer) == 3 and store.count(ds, status=None) == 0  # buffered only
        writer.flush(done=2, rejected=1, requests=1)
        assert len(writer) == 0 and writer.cache.pending == {}
        assert store.count(ds) == 2 and store.job(job).done == 2 and store.job(job).rejected == 1
        cached = store.cache().get("k1")
        assert cached is not None and cached.text == "answer" and cached.usage.completion_tokens == 4
        slots, hashes, rejects = store.job_progress(job)
        assert slots == {"0:0", "0:1"} and rejects == {"0:2:0"}
        assert hashes == {text_hash("text number 0"), text_hash("text number 1")}

    def test_failing_flush_writes_nothing_and_keeps_the_buffer(self, store: Store, ds: int) -> None:
        job = store.create_job(ds, {}, target=2)
        writer = store.writer(ds, job, "fake:m")
        writer.cache.put("k1", Completion(text="a"))
        for i, s in enumerate(make(2)):
            writer.add(s, f"0:{i}")

        def fail_on_samples(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if statement.lstrip().upper().startswith("INSERT INTO SAMPLES"):
                raise OperationalError(statement, {}, Exception("disk full"))

        event.listen(store.engine, "before_cursor_execute", fail_on_samples)
        with pytest.raises(StoreError, match="disk full"):
            writer.flush(done=2)
        event.remove(store.engine, "before_cursor_execute", fail_on_samples)
        # the cache rows were inserted before the failure, and rolled back with it
        assert store.cache().get("k1") is None and store.count(ds) == 0 and store.job(job).done == 0
        assert len(writer) == 2 and set(writer.cache.pending) == {"k1"}
        writer.add(make(3)[2], "0:2")
        writer.flush(done=3)
        assert sorted(s.text for s in store.samples(ds)) == [f"text number {i}" for i in range(3)]
        assert store.cache().get("k1") is not None and store.job(job).done == 3

    def test_a_slot_is_filled_once(self, store: Store, ds: int) -> None:
        job = store.create_job(ds, {}, target=2)
        writer = store.writer(ds, job, "fake:m")
        writer.add(make(1)[0], "0:0")
        writer.flush()
        writer.add(make(2)[1], "0:0")
        with pytest.raises(StoreError, match="could not write"):
            writer.flush()
        assert store.count(ds) == 1
        other = store.writer(ds, store.create_job(ds, {}, target=1), "fake:m")
        other.add(make(2)[1], "0:0")  # the same slot in another job is fine
        other.flush()
        assert store.count(ds) == 2


class TestResponseCache:
    def test_buffered_until_flush_then_shared(self, store: Store) -> None:
        cache = store.cache("fake:m")
        assert cache.get("k") is None
        cache.put("k", Completion(text="one", model="m", finish_reason="stop"))
        assert cache.get("k") is not None  # served from the buffer already
        assert store.cache().get("k") is None  # but not in the database yet
        cache.flush()
        got = store.cache().get("k")
        assert got is not None and (got.text, got.model, got.finish_reason) == ("one", "m", "stop")

    def test_the_same_key_from_two_writers_is_kept_once(self, store: Store) -> None:
        a, b = store.cache("x"), store.cache("x")
        a.put("k", Completion(text="first"))
        b.put("k", Completion(text="second"))
        b.put("k2", Completion(text="other"))
        a.flush()
        b.flush()  # no unique violation: the existing row wins
        assert store.cache().get("k").text == "first"  # type: ignore[union-attr]
        assert store.cache().get("k2") is not None


class TestDelete:
    def test_delete_removes_samples_and_jobs_only_of_that_dataset(self, store: Store, ds: int) -> None:
        store.add_samples(ds, make(3))
        parent = store.samples(ds)[0]
        synth = store.create_dataset("synth", THREE)
        job = store.create_job(synth, {}, target=1)
        child = make(1, prefix="child", provenance=Provenance(parent_id=parent.id))[0]
        store.add_samples(synth, [child])
        store.delete_dataset("real")
        with pytest.raises(StoreError):
            store.dataset_id("real")
        assert store.count(ds, status=None) == 0
        kept = store.samples(synth)
        assert [s.text for s in kept] == ["child number 0"] and kept[0].provenance.parent_id is None
        assert [j.id for j in store.list_jobs()] == [job]
        store.delete_dataset("synth")
        assert store.list_jobs() == [] and store.list_datasets() == []
        with pytest.raises(StoreError, match="no dataset named 'synth'"):
            store.delete_dataset("synth")


@pytest.mark.postgres
def test_a_page_of_samples_is_read_in_index_order_without_statistics(pg_url: str) -> None:
    """Right after a large job PostgreSQL has no statistics on the new rows; the keyset page
    must still be an index range read in id order, not a sort of every matching row (which
    took 683 ms a page on a million-row dataset: benchmarks/memory/README.md)."""
    from sqlalchemy import text

    with Store(pg_url) as store:
        with store.engine.begin() as conn:
            conn.execute(text("TRUNCATE samples, jobs, datasets RESTART IDENTITY CASCADE"))
        ds = store.create_dataset("big", THREE, kind="synthetic")
        store.add_samples(ds, make(20_000))
        seen: list[tuple[str, Any]] = []

        def keep(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
            if "FROM samples" in statement and "ORDER BY" in statement:
                seen.append((statement, params))

        event.listen(store.engine, "before_cursor_execute", keep)
        next(store.iter_samples(ds, batch=2000))
        event.remove(store.engine, "before_cursor_execute", keep)
        statement, params = seen[0]
        with store.engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            assert raw is not None
            with raw.cursor() as cursor:
                cursor.execute("EXPLAIN " + statement, params)
                plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "ix_samples_dataset_status_id" in plan and "Sort" not in plan, plan
