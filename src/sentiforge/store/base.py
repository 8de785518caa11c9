"""What every part of the store shares: the engine, sessions, closing, migrating once.

The table groups (samples, quality, review) are mixins on :class:`StoreBase`; ``Store`` in
``store/store.py`` joins them, so callers hold one object and never see SQL.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any, Self

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from sentiforge.errors import StoreError


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
    from sentiforge.config import get_settings

    size = get_settings().db_pool_size
    try:
        return create_engine(url, pool_pre_ping=True, pool_size=size, max_overflow=size)
    except ModuleNotFoundError as exc:
        from sentiforge.errors import MissingExtraError

        raise MissingExtraError("PostgreSQL storage", "postgres", "psycopg") from exc


class StoreBase:
    """The engine behind a store. Use it as a context manager, or call :meth:`close`."""

    def __init__(self, url: str | None = None, *, migrate: bool = True) -> None:
        self.url = url or default_url()
        try:
            self.engine = make_engine(self.url)
            if migrate:
                from sentiforge.store.migrate import upgrade_once

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
