"""Persistence: SQLite by default, PostgreSQL by URL."""

from sentiforge.store.store import JobWriter, SqlCache, Store

__all__ = ["JobWriter", "SqlCache", "Store"]
