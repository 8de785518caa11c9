"""The response cache's in-memory key index: fresh requests skip the database read."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from sqlalchemy import event

from sentiforge.backends.base import Completion, Usage
from sentiforge.store import Store
from sentiforge.store.cache import SqlCache


def key(n: int) -> str:
    return hashlib.sha256(str(n).encode()).hexdigest()


def reads(store: Store) -> list[str]:
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", count)
    return seen


def test_index_answers_misses_without_a_read_and_keeps_hits_exact(store: Store) -> None:
    answer = Completion(text="ok", model="m", usage=Usage(prompt_tokens=3, completion_tokens=1))
    first = SqlCache(store, "backend-a")
    first.put(key(1), answer)
    first.put("not-a-sha", answer)
    first.flush()
    other = SqlCache(store, "backend-b")
    other.put(key(2), answer)
    other.flush()

    cache = SqlCache(store, "backend-a")
    assert cache.load_index() == 2  # only this backend's keys
    selects = reads(store)
    assert cache.get(key(3)) is None and cache.get(key(2)) is None and selects == []
    hit = cache.get(key(1))
    assert hit is not None and hit.text == "ok" and len(selects) == 1
    assert cache.get("not-a-sha") is not None
    # a response put (then written) by this job is found again through the index
    cache.put(key(4), answer)
    cache.flush()
    assert cache.get(key(4)) is not None


@pytest.mark.parametrize("indexed", [False, True])
def test_without_an_index_every_miss_reads_the_database(store: Store, indexed: bool) -> None:
    cache = SqlCache(store, "backend-a")
    if indexed:
        cache.load_index()
    selects = reads(store)
    assert cache.get(key(9)) is None
    assert len(selects) == (0 if indexed else 1)
