"""Alembic environment: runs on the connection :func:`sentiforge.store.migrate.upgrade` hands
over (``config.attributes["connection"]``), or on ``sqlalchemy.url`` for the developer CLI."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from sentiforge.store.tables import Base

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("sentiforge migrations run online only (they need a database connection)")
run_migrations_online()
