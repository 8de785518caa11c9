"""Opening a database: the URL the settings name, and a SQLAlchemy engine for a URL (SQLite
with WAL and foreign keys, PostgreSQL through psycopg with the settings' pool size).

Both the store (store/base.py) and the migrations' developer command (store/migrate.py) open
databases this way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event


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
