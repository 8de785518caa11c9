"""Store fixtures: every store test runs on SQLite (a temp file) and on PostgreSQL.

The PostgreSQL side gets one fresh database per test session (``sentiforge_test_<pid>``, made
from the ``postgres`` database and dropped at the end); each test starts from empty tables.
Deselect it with ``-m "not postgres"`` on a machine without the server.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sentiforge.store import Store

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
PG_URL = "postgresql://postgres@127.0.0.1:5432/{name}"
_names = itertools.count()


def _admin(sql: str) -> None:
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql)  # type: ignore[arg-type]
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL on 127.0.0.1:5432 is not reachable ({exc}); deselect with -m 'not postgres'")


@pytest.fixture(scope="session")
def new_pg_database() -> Iterator[Callable[[], str]]:
    """Makes empty databases on demand (``sentiforge_test_<pid>[_n]``); drops them all at the end."""
    made: list[str] = []

    def make() -> str:
        n = next(_names)
        name = f"sentiforge_test_{os.getpid()}" + (f"_{n}" if n else "")
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _admin(f'CREATE DATABASE "{name}"')
        made.append(name)
        return PG_URL.format(name=name)

    yield make
    for name in made:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_url(new_pg_database: Callable[[], str]) -> str:
    """The session's PostgreSQL database, migrated once."""
    url = new_pg_database()
    Store(url).close()
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store URL with empty tables, on each database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    url: str = request.getfixturevalue("pg_url")
    from sqlalchemy import text

    store = Store(url)
    with store.engine.begin() as conn:
        conn.execute(text("TRUNCATE samples, jobs, datasets, response_cache RESTART IDENTITY CASCADE"))
    store.close()
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL to a database with no tables at all (for migration tests)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    make: Callable[[], str] = request.getfixturevalue("new_pg_database")
    return make()


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store(db_url)
    yield s
    s.close()
