"""Opening a database: a SQLAlchemy engine for a URL (SQLite with WAL and foreign keys,
PostgreSQL through psycopg with the pool size it is given: the settings' ``db_pool_size``,
handed down from an entry point; nothing here reads the settings).

Both the store (store/base.py) and the migrations' developer command (store/migrate.py) open
databases this way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event

DEFAULT_POOL_SIZE = 5  # the SENTIFORGE_DB_POOL_SIZE default


def make_engine(url: str, *, pool_size: int = DEFAULT_POOL_SIZE) -> Engine:
    """An engine for a URL; on PostgreSQL ``pool_size`` connections kept open (and as many again on demand)."""
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
        return create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=pool_size)
    except ModuleNotFoundError as exc:
        from sentiforge.errors import MissingExtraError

        raise MissingExtraError("PostgreSQL storage", "postgres", "psycopg") from exc
