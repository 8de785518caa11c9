"""The store: datasets, samples, jobs and the response cache, on SQLite or PostgreSQL.

Samples stream in and out in batches; nothing here holds a whole dataset in memory.
A :class:`JobWriter` buffers a job's new samples *and* the responses they came from and
writes both in one transaction, so after a crash the cache and the samples agree.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, bindparam, create_engine, delete, event, func, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from sentiforge.backends.base import Completion, Usage
from sentiforge.errors import StoreError
from sentiforge.labels import LabelScheme
from sentiforge.samples import Provenance, Sample, text_hash
from sentiforge.store.jobs import JobTables
from sentiforge.store.models import CacheRow, DatasetRow, JobRow, SampleRow, utcnow


def default_url() -> str:
    from sentiforge.config import get_settings

    return get_settings().database_url


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(conn: Any, _record: Any) -> None:
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    try:
        return create_engine(url, pool_pre_ping=True)
    except ModuleNotFoundError as exc:
        from sentiforge.errors import MissingExtraError

        raise MissingExtraError("PostgreSQL storage", "postgres", "psycopg") from exc


def _row_to_sample(row: SampleRow) -> Sample:
    return Sample(
        id=row.id,
        text=row.text,
        label=row.label,
        labels=row.labels,
        aspects=row.aspects,
        language=row.language,
        rationale=row.rationale,
        attributes=row.attributes or {},
        split=row.split,
        status=row.status,  # type: ignore[arg-type]
        reason=row.reason,
        provenance=Provenance(
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
    )


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


class Store(JobTables):
    def __init__(self, url: str | None = None, *, migrate: bool = True) -> None:
        self.url = url or default_url()
        try:
            self.engine = make_engine(self.url)
            if migrate:
                from sentiforge.store.migrate import upgrade

                upgrade(self.engine)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot open the store at {self.safe_url}: {exc}") from exc

    @property
    def safe_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True) if hasattr(self, "engine") else self.url

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- datasets -------------------------------------------------------------------
    def create_dataset(
        self, name: str, scheme: LabelScheme, *, kind: str = "synthetic", meta: dict[str, Any] | None = None
    ) -> int:
        with self.session() as s:
            row = DatasetRow(name=name, kind=kind, scheme=scheme.model_dump(mode="json"), meta=meta or {})
            s.add(row)
            try:
                s.commit()
            except IntegrityError as exc:
                raise StoreError(
                    f"a dataset named '{name}' exists already; pick another name or delete it first"
                ) from exc
            return row.id

    def dataset_id(self, name: str) -> int:
        with self.session() as s:
            found = s.scalar(select(DatasetRow.id).where(DatasetRow.name == name))
        if found is None:
            raise StoreError(f"no dataset named '{name}'; `sentiforge datasets` lists them")
        return found

    def dataset(self, name_or_id: str | int) -> DatasetRow:
        with self.session() as s:
            if isinstance(name_or_id, int):
                row = s.get(DatasetRow, name_or_id)
            else:
                row = s.scalar(select(DatasetRow).where(DatasetRow.name == name_or_id))
        if row is None:
            raise StoreError(f"no dataset {name_or_id!r}; `sentiforge datasets` lists them")
        return row

    def scheme(self, name_or_id: str | int) -> LabelScheme:
        return LabelScheme.model_validate(self.dataset(name_or_id).scheme)

    def list_datasets(self) -> list[DatasetRow]:
        with self.session() as s:
            return list(s.scalars(select(DatasetRow).order_by(DatasetRow.id)))

    def update_dataset_meta(self, dataset_id: int, **meta: Any) -> None:
        with self.session() as s:
            row = s.get(DatasetRow, dataset_id)
            if row is None:
                raise StoreError(f"no dataset with id {dataset_id}")
            row.meta = {**(row.meta or {}), **meta}
            s.commit()

    def delete_dataset(self, name: str) -> None:
        with self.session() as s:
            row = s.scalar(select(DatasetRow).where(DatasetRow.name == name))
            if row is None:
                raise StoreError(f"no dataset named '{name}'")
            s.execute(delete(SampleRow).where(SampleRow.dataset_id == row.id))
            s.execute(delete(JobRow).where(JobRow.dataset_id == row.id))
            s.delete(row)
            s.commit()

    # -- samples --------------------------------------------------------------------
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
            q = select(SampleRow).where(SampleRow.dataset_id == dataset_id, SampleRow.id > last)
            if status is not None:
                q = q.where(SampleRow.status == status)
            if split is not None:
                q = q.where(SampleRow.split == split)
            with self.session() as s:
                rows = list(s.scalars(q.order_by(SampleRow.id).limit(batch)))
            if not rows:
                return
            for row in rows:
                yield _row_to_sample(row)
            last = rows[-1].id

    def samples(self, dataset_id: int, **kw: Any) -> list[Sample]:
        return list(self.iter_samples(dataset_id, **kw))

    def get_sample(self, sample_id: int) -> Sample:
        with self.session() as s:
            row = s.get(SampleRow, sample_id)
        if row is None:
            raise StoreError(f"no sample with id {sample_id}")
        return _row_to_sample(row)

    def count(self, dataset_id: int, *, status: str | None = "accepted", by: str | None = None) -> Any:
        """A count, or counts grouped by a column (label, split, status, strategy, reason, language)."""
        allowed = {"label", "split", "status", "strategy", "reason", "language", "model", "backend", "job_id"}
        with self.session() as s:
            if by is None:
                q = select(func.count()).select_from(SampleRow).where(SampleRow.dataset_id == dataset_id)
                if status is not None:
                    q = q.where(SampleRow.status == status)
                return s.scalar(q) or 0
            if by not in allowed:
                raise StoreError(f"cannot count by {by!r}; choose one of {sorted(allowed)}")
            col = getattr(SampleRow, by)
            q = select(col, func.count()).where(SampleRow.dataset_id == dataset_id).group_by(col)
            if status is not None:
                q = q.where(SampleRow.status == status)
            grouped: Iterable[Any] = s.execute(q)
            return {key: n for key, n in grouped}

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

    # -- jobs: store/jobs.py (JobTables) -------------------------------------------
    def writer(self, dataset_id: int, job_id: int, backend_key: str) -> JobWriter:
        return JobWriter(self, dataset_id, job_id, backend_key)

    def cache(self, backend_key: str = "") -> SqlCache:
        return SqlCache(self, backend_key)


class SqlCache:
    """The response cache in the store. Writes are buffered until :meth:`flush`."""

    def __init__(self, store: Store, backend_key: str) -> None:
        self.store = store
        self.backend_key = backend_key
        self.pending: dict[str, Completion] = {}
        self.writing: dict[str, Completion] = {}  # taken by a JobWriter batch, not committed yet

    def get(self, key: str) -> Completion | None:
        """A buffered or stored response. This runs once per request, on the event loop, so it
        is an autocommit Core read: on PostgreSQL, half the time of an ORM session (no BEGIN,
        no ROLLBACK round trips)."""
        found = self.pending.get(key) or self.writing.get(key)
        if found is not None:
            return found
        c = CacheRow
        q = select(c.text, c.model, c.finish_reason, c.prompt_tokens, c.completion_tokens).where(c.key == key)
        try:
            with self.store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                row = conn.execute(q).first()
        except SQLAlchemyError as exc:
            raise StoreError(f"could not read the response cache at {self.store.safe_url}: {exc}") from exc
        if row is None:
            return None
        return Completion(
            text=row.text,
            model=row.model,
            finish_reason=row.finish_reason,
            usage=Usage(prompt_tokens=row.prompt_tokens, completion_tokens=row.completion_tokens),
        )

    def put(self, key: str, completion: Completion) -> None:
        self.pending[key] = completion

    def rows(self) -> list[dict[str, Any]]:
        now = utcnow()
        return [
            {
                "key": k,
                "backend": self.backend_key,
                "text": c.text,
                "model": c.model,
                "finish_reason": c.finish_reason,
                "prompt_tokens": c.usage.prompt_tokens,
                "completion_tokens": c.usage.completion_tokens,
                "created_at": now,
            }
            for k, c in self.pending.items()
        ]

    def flush(self) -> None:
        """Write the buffered responses; on failure they stay buffered for the next flush."""
        if not self.pending:
            return
        try:
            with self.store.engine.begin() as conn:
                _insert_cache(conn, self.rows())
        except SQLAlchemyError as exc:
            raise StoreError(f"could not write the response cache to {self.store.safe_url}: {exc}") from exc
        self.pending.clear()


def _insert_cache(conn: Any, rows: list[dict[str, Any]]) -> None:
    """Insert cache rows, skipping keys present already (another job may have cached the same
    request meanwhile: ON CONFLICT DO NOTHING instead of a racy check-then-insert)."""
    if not rows:
        return
    dialect = conn.dialect.name
    if dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        conn.execute(sqlite.insert(CacheRow).on_conflict_do_nothing(index_elements=["key"]), rows)
        return
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        conn.execute(postgresql.insert(CacheRow).on_conflict_do_nothing(index_elements=["key"]), rows)
        return
    keys = [r["key"] for r in rows]
    existing = set(conn.execute(select(CacheRow.key).where(CacheRow.key.in_(keys))).scalars())
    fresh = [r for r in rows if r["key"] not in existing]
    if fresh:
        conn.execute(insert(CacheRow), fresh)


class JobWriter:
    """Buffers a job's samples and cached responses; ``flush`` commits them together."""

    def __init__(self, store: Store, dataset_id: int, job_id: int, backend_key: str) -> None:
        self.store = store
        self.dataset_id = dataset_id
        self.job_id = job_id
        self.cache = SqlCache(store, backend_key)
        self._rows: list[dict[str, Any]] = []

    def add(self, sample: Sample, slot: str) -> None:
        self._rows.append(sample_values(sample, self.dataset_id, self.job_id, slot))

    def __len__(self) -> int:
        return len(self._rows)

    def take(self) -> WriteBatch:
        """Hand the buffered samples and responses to a batch (the buffers start afresh);
        the batch's responses stay readable through the cache until it is written."""
        batch = WriteBatch(self._rows, self.cache.rows(), dict(self.cache.pending))
        self._rows = []
        self.cache.writing.update(self.cache.pending)
        self.cache.pending.clear()
        return batch

    def write(self, batch: WriteBatch, **job_values: Any) -> None:
        """Commit a batch and the job's counters in one transaction. Touches no buffer, so it
        may run in a worker thread while the event loop goes on adding samples."""
        try:
            with self.store.engine.begin() as conn:
                _insert_cache(conn, batch.cache_rows)
                if batch.rows:
                    conn.execute(insert(SampleRow), batch.rows)
                if job_values:
                    job_values["updated_at"] = utcnow()
                    conn.execute(update(JobRow).where(JobRow.id == self.job_id).values(**job_values))
        except SQLAlchemyError as exc:
            raise StoreError(f"could not write to the store at {self.store.safe_url}: {exc}") from exc

    def settle(self, batch: WriteBatch, *, written: bool) -> None:
        """After :meth:`write`: forget a written batch, or put a failed one back for the next flush."""
        for key in batch.responses:
            self.cache.writing.pop(key, None)
        if not written:
            self._rows = batch.rows + self._rows
            self.cache.pending = {**batch.responses, **self.cache.pending}

    def flush(self, **job_values: Any) -> None:
        """Commit buffered samples, cached responses and job counters in one transaction. On
        failure nothing is written and every buffered row stays for the next flush."""
        batch = self.take()
        try:
            self.write(batch, **job_values)
        except StoreError:
            self.settle(batch, written=False)
            raise
        self.settle(batch, written=True)


@dataclass
class WriteBatch:
    """Samples and cached responses taken from a JobWriter, written in one transaction."""

    rows: list[dict[str, Any]]
    cache_rows: list[dict[str, Any]]
    responses: dict[str, Completion] = field(default_factory=dict)


__all__ = ["JobWriter", "SqlCache", "Store", "WriteBatch"]
