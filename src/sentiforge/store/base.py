"""What every part of the store shares: the engine (store/database.py opens it), sessions,
closing, migrating once.

The table groups (samples, quality, review) are mixins on :class:`StoreBase`; ``Store`` in
``store/store.py`` joins them, so callers hold one object and never see SQL.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from sentiforge.errors import StoreError
from sentiforge.store.database import DEFAULT_POOL_SIZE, make_engine
from sentiforge.store.migrate import upgrade_once


def insert_if_absent(conn: Any, table: Any, values: dict[str, Any], returning: Any) -> Any:
    """Insert a row unless its unique key exists (ON CONFLICT DO NOTHING, on SQLite and
    PostgreSQL alike: no racy check-then-insert); ``returning`` of the new row, else None."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        stmt: Any = postgresql.insert(table).on_conflict_do_nothing()
    else:
        from sqlalchemy.dialects import sqlite

        stmt = sqlite.insert(table).on_conflict_do_nothing()
    # RETURNING, not rowcount: psycopg reports no row count for an INSERT that did nothing
    return conn.execute(stmt.returning(returning), values).scalar()


class StoreBase:
    """The engine behind a store. Use it as a context manager, or call :meth:`close`.

    The URL and pool size are handed down from an entry point (the settings'
    ``database_url`` and ``db_pool_size``); the store never reads the settings itself."""

    def __init__(self, url: str, *, pool_size: int = DEFAULT_POOL_SIZE, migrate: bool = True) -> None:
        self.url = url
        self.pool_size = pool_size
        try:
            self.engine = make_engine(self.url, pool_size=pool_size)
            if migrate:
                upgrade_once(self.engine)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot open the store at {self.safe_url}: {exc}") from exc

    @property
    def safe_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True) if hasattr(self, "engine") else self.url

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
