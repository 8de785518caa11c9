"""Bring a database to the current schema: Alembic ``upgrade head`` over ``store/migrations``.

No alembic.ini is needed (the script location is inside the package, so this works from an
installed wheel). Two processes may open the same new database at once: on PostgreSQL the
upgrade runs in one transaction under an advisory lock, on SQLite under ``BEGIN IMMEDIATE``;
the second process waits, then finds the schema at head and does nothing.

Adding a migration, after changing ``store/tables.py``::

    python -m sentiforge.store.migrate revision -m "add samples.score" --db sqlite:////tmp/dev.db

upgrades that scratch database to the previous head, then autogenerates
``migrations/versions/<id>_<slug>.py`` from the difference (ids are sequential: 0002, 0003...).
Read the file before committing: autogenerate misses renames and server defaults. Then run
``pytest tests/store/test_migrations.py``: it fails while models.py and the migrated schema differ,
on SQLite and PostgreSQL.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.pool import NullPool

from sentiforge.errors import StoreError
from sentiforge.store.database import make_engine

SCRIPTS = Path(__file__).resolve().parent / "migrations"
PG_LOCK_KEY = 0x5E471F04  # any constant: the advisory lock that serialises concurrent upgrades
# Databases this process has brought to head already: opening another Store on one of them
# skips the check (loading the migration scripts and reading the current revision).
_UPGRADED: set[str] = set()


def config(connection: Connection | None = None, url: str | None = None) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    from alembic.script import ScriptDirectory

    found = ScriptDirectory.from_config(config()).get_current_head()
    assert found is not None, "store/migrations/versions holds no migration"
    return found


def current(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    revision: str | None = MigrationContext.configure(connection).get_current_revision()
    return revision


def upgrade_once(engine: Engine) -> None:
    """:func:`upgrade`, once per database and process. An in-memory SQLite database is a new
    one each time, and a SQLite file that is gone (deleted meanwhile) is checked again."""
    key = engine.url.render_as_string(hide_password=False)
    database = engine.url.database or ":memory:"
    sqlite = engine.dialect.name == "sqlite"
    if key in _UPGRADED and not (sqlite and (database == ":memory:" or not Path(database).exists())):
        return
    upgrade(engine)
    if not (sqlite and database == ":memory:"):
        _UPGRADED.add(key)


def upgrade(engine: Engine) -> None:
    """Migrate the database behind ``engine`` to head (a no-op when it is there already)."""
    from alembic.util import CommandError

    try:
        with engine.connect() as conn:
            if current(conn) == head():
                return
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
                _upgrade_on(conn)
        elif engine.dialect.name == "sqlite" and (engine.url.database or ":memory:") != ":memory:":
            locked = _sqlite_locking_engine(engine)
            try:
                with locked.begin() as conn:
                    _upgrade_on(conn)
            finally:
                locked.dispose()
        else:
            with engine.begin() as conn:
                _upgrade_on(conn)
    except CommandError as exc:
        raise StoreError(f"cannot migrate the store at {engine.url!r}: {exc}") from exc


def _upgrade_on(conn: Connection) -> None:
    from alembic import command

    if current(conn) is None and inspect(conn).has_table("datasets"):
        raise StoreError(
            f"the database at {conn.engine.url!r} has sentiforge tables but no migration history "
            "(it was made by a pre-release build); export what you need, then delete it"
        )
    command.upgrade(config(conn), "head")


def _sqlite_locking_engine(engine: Engine) -> Engine:
    """A one-off engine whose transactions start with BEGIN IMMEDIATE (the write lock), so the
    whole upgrade, DDL included, is one transaction that a concurrent process waits for."""
    locked = create_engine(engine.url, poolclass=NullPool, connect_args={"timeout": 60})

    @event.listens_for(locked, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # let us issue BEGIN ourselves (pysqlite would defer it)

    @event.listens_for(locked, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return locked


def main(argv: list[str] | None = None) -> None:
    """Developer commands: ``upgrade``, ``current`` and ``revision -m MESSAGE`` (autogenerate)."""
    from alembic import command

    parser = argparse.ArgumentParser(prog="python -m sentiforge.store.migrate")
    parser.add_argument("action", choices=["upgrade", "current", "revision"])
    parser.add_argument("--db", required=True, help="database URL (a scratch one for `revision`)")
    parser.add_argument("-m", "--message", default="")
    args = parser.parse_args(argv)

    engine = make_engine(args.db)
    upgrade(engine)
    if args.action == "revision":
        if not args.message:
            parser.error("revision needs -m MESSAGE")
        next_id = f"{int(head()) + 1:04d}"
        with engine.begin() as conn:
            command.revision(config(conn), message=args.message, autogenerate=True, rev_id=next_id)
    with engine.connect() as conn:
        print(f"database at revision {current(conn)}; scripts head {head()}")
    engine.dispose()


if __name__ == "__main__":
    main()
