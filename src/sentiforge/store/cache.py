"""The response cache and the job writer.

A :class:`JobWriter` buffers a job's new samples and writes them in one transaction with the
job's counters. The paid answers are committed to the cache before a sample made from them
counts (the engine's group commit: :meth:`SqlCache.take`, :meth:`SqlCache.write` in a worker
thread, :meth:`SqlCache.settle`), with the paid counters (requests, tokens, cost) in the same
transaction: a process killed mid-job repays only the answers in flight, and its successor's
counters include what the killed one paid. A response whose write fails stays buffered and
goes with the next batch of samples instead.
"""

from __future__ import annotations

import collections
import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import SQLAlchemyError

from sentiforge.backends.base import Completion, Usage
from sentiforge.errors import StoreError
from sentiforge.samples import Sample
from sentiforge.store.samples import sample_values
from sentiforge.store.tables import CacheRow, JobRow, JobShardRow, SampleRow, utcnow

if TYPE_CHECKING:
    from sentiforge.backends.client import Accounting
    from sentiforge.store.base import StoreBase

PAID = ("requests", "prompt_tokens", "completion_tokens", "cost")  # counters that move with each paid answer


class SqlCache:
    """The response cache in the store. Writes are buffered until :meth:`flush`."""

    def __init__(self, store: StoreBase, backend_key: str, job_id: int | None = None) -> None:
        self.store = store
        self.backend_key = backend_key
        self.job_id = job_id  # recorded as the payer of the answers this cache writes
        # answers read from the store that other jobs paid for: payer job id -> count
        self.reused: collections.Counter[int] = collections.Counter()
        # where a write of answers also sets the paid counters: (table, row id, the run's accounting)
        self.counters: tuple[Any, int, Accounting] | None = None
        self.pending: dict[str, Completion] = {}
        self.writing: dict[str, Completion] = {}  # taken by a write, not committed yet
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
        q = select(
            c.text, c.model, c.finish_reason, c.prompt_tokens, c.completion_tokens, c.logprobs, c.job_id
        ).where(c.key == key)
        try:
            with self.store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                row = conn.execute(q).first()
        except SQLAlchemyError as exc:
            raise StoreError(f"could not read the response cache at {self.store.safe_url}: {exc}") from exc
        if row is None:
            return None
        if row.job_id is not None and row.job_id != self.job_id:
            self.reused[row.job_id] += 1
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

    def take(self) -> Answers:
        """The buffered responses and the paid counters now, for :meth:`write` off the event
        loop (the responses stay readable through ``writing`` until :meth:`settle`)."""
        taken = Answers(dict(self.pending), None)
        if self.counters is not None:
            taken.paid = {k: getattr(self.counters[2], k) for k in PAID}
        self.writing.update(self.pending)
        self.pending.clear()
        return taken

    def write(self, answers: Answers) -> None:
        """Commit taken responses with the paid counters (StoreError if it fails)."""
        try:
            with self.store.engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    # no wait for the WAL flush (most of a write's time): the server has the row
                    # once this returns, so a killed job process loses nothing; only a crash of
                    # PostgreSQL itself can drop the last ~0.6 s of answers (repaid then)
                    conn.execute(text("SET LOCAL synchronous_commit TO OFF"))
                _insert_cache(conn, self.rows(answers.responses))
                if answers.paid and self.counters is not None:
                    set_paid(conn, self.counters[0], self.counters[1], answers.paid)
        except SQLAlchemyError as exc:
            raise StoreError(f"could not write the response cache to {self.store.safe_url}: {exc}") from exc

    def settle(self, answers: Answers, *, written: bool) -> None:
        """After :meth:`write`: forget written responses, or buffer failed ones again."""
        for key in answers.responses:
            self.writing.pop(key, None)
        if not written:
            self.pending = {**answers.responses, **self.pending}

    def rows(self, responses: dict[str, Completion] | None = None) -> list[dict[str, Any]]:
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
                "job_id": self.job_id,
                "created_at": now,
            }
            for k, c in (self.pending if responses is None else responses).items()
        ]

    def flush(self) -> None:
        """Write the buffered responses now; on failure they stay buffered (StoreError)."""
        answers = self.take()
        try:
            self.write(answers)
        except StoreError:
            self.settle(answers, written=False)
            raise
        self.settle(answers, written=True)


@dataclass
class Answers:
    """Responses taken from a cache's buffer, and the paid counters when they were taken."""

    responses: dict[str, Completion]
    paid: dict[str, Any] | None


def set_paid(conn: Any, table: Any, row_id: int, paid: dict[str, Any]) -> None:
    """Set a job's (or shard's) paid counters unless the row counts more already: a
    write-through and a batch's write race, and the later of them may carry older totals."""
    q = update(table).where(table.id == row_id)
    if "requests" in paid:
        q = q.where(table.requests <= paid["requests"])
    conn.execute(q.values(**paid))


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
        self, store: StoreBase, dataset_id: int, job_id: int, backend_key: str, shard_id: int | None = None
    ) -> None:
        self.store = store
        self.dataset_id = dataset_id
        self.job_id = job_id
        self.shard_id = shard_id
        self.cache = SqlCache(store, backend_key, job_id)
        self._rows: list[dict[str, Any]] = []

    @property
    def table(self) -> Any:
        """The row the counters go to: the shard's, or the job's."""
        return JobShardRow if self.shard_id is not None else JobRow

    @property
    def row_id(self) -> int:
        return self.shard_id if self.shard_id is not None else self.job_id

    def count_paid(self, accounting: Accounting) -> None:
        """Write the run's paid counters with each write of responses."""
        self.cache.counters = (self.table, self.row_id, accounting)

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
                    paid = {k: job_values.pop(k) for k in PAID if k in job_values}
                    if paid:
                        set_paid(conn, self.table, self.row_id, paid)
                    job_values["updated_at"] = utcnow()
                    conn.execute(update(self.table).where(self.table.id == self.row_id).values(**job_values))
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
