"""The response cache and the job writer.

A :class:`JobWriter` buffers a job's new samples *and* the responses they came from and
writes both in one transaction, so after a crash the cache and the samples agree.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from sentiforge.backends.base import Completion, Usage
from sentiforge.errors import StoreError
from sentiforge.samples import Sample
from sentiforge.store.models import CacheRow, JobRow, JobShardRow, SampleRow, utcnow
from sentiforge.store.samples import sample_values

if TYPE_CHECKING:
    from sentiforge.store.store import Store


class SqlCache:
    """The response cache in the store. Writes are buffered until :meth:`flush`."""

    def __init__(self, store: Store, backend_key: str, *, write_through: bool = False) -> None:
        self.store = store
        self.backend_key = backend_key
        # a shard's cache writes each response at once: a worker killed mid-shard then repays
        # only the answers still in flight, not those since its last flush
        self.write_through = write_through
        self.pending: dict[str, Completion] = {}
        self.writing: dict[str, Completion] = {}  # taken by a JobWriter batch, not committed yet
        # 64-bit prefixes of the keys stored for this backend (see load_index); None: no index
        self.index: set[int] | None = None

    def load_index(self) -> int:
        """Read the keys this backend has in the cache, so that a request never answered
        before skips the database read (17% of the client's CPU per request in a fresh job).
        A request another process caches after this is paid again, not answered wrongly."""
        q = select(CacheRow.key).where(CacheRow.backend == self.backend_key)
        index: set[int] = set()
        try:
            with self.store.engine.connect().execution_options(yield_per=10_000) as conn:
                for key in conn.execute(q).scalars():
                    index.add(_prefix(key))
        except SQLAlchemyError as exc:
            raise StoreError(f"could not read the response cache at {self.store.safe_url}: {exc}") from exc
        self.index = index
        return len(index)

    def get(self, key: str) -> Completion | None:
        """A buffered or stored response. This runs once per request, on the event loop, so it
        is an autocommit Core read: on PostgreSQL, half the time of an ORM session (no BEGIN,
        no ROLLBACK round trips)."""
        found = self.pending.get(key) or self.writing.get(key)
        if found is not None:
            return found
        if self.index is not None and _prefix(key) not in self.index:
            return None
        c = CacheRow
        q = select(c.text, c.model, c.finish_reason, c.prompt_tokens, c.completion_tokens, c.logprobs).where(
            c.key == key
        )
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
            logprobs=json.loads(row.logprobs) if row.logprobs else None,
        )

    def put(self, key: str, completion: Completion) -> None:
        self.pending[key] = completion
        if self.index is not None:
            self.index.add(_prefix(key))
        if self.write_through:
            with contextlib.suppress(StoreError):  # else it stays pending, for the batch's transaction
                self.flush()

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
                "logprobs": json.dumps(c.logprobs, ensure_ascii=False) if c.logprobs else None,
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


def _prefix(key: str) -> int:
    """A cache key's first 64 bits (keys are sha256 hex; any other string is hashed)."""
    try:
        return int(key[:16], 16)
    except ValueError:
        return int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:16], 16)


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
    """Buffers a job's samples and cached responses; ``flush`` commits them together. A shard's
    writer (``shard_id``) writes the counters to its shard row instead of the job's."""

    def __init__(
        self, store: Store, dataset_id: int, job_id: int, backend_key: str, shard_id: int | None = None
    ) -> None:
        self.store = store
        self.dataset_id = dataset_id
        self.job_id = job_id
        self.shard_id = shard_id
        self.cache = SqlCache(store, backend_key, write_through=shard_id is not None)
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
                    table: Any = JobShardRow if self.shard_id is not None else JobRow
                    row_id = self.shard_id if self.shard_id is not None else self.job_id
                    conn.execute(update(table).where(table.id == row_id).values(**job_values))
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


__all__ = ["JobWriter", "SqlCache", "WriteBatch"]
