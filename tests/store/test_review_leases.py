"""Review leases under contention, on SQLite and PostgreSQL: six reviewers asking at once for
overlapping, shuffled sets of the same items never hold one item together, and nobody's
request fails (no deadlock, no lock timeout)."""

from __future__ import annotations

import random
import threading

from sentiforge.store import Store
from sentiforge.testing.review_demo import build_queue


def test_reviewers_asking_at_once_never_share_an_item(store: Store) -> None:
    build_queue(store, "rq", copies=4)
    ids = [i.id for i in store.list_review_items(store.dataset_id("rq"))]
    got: dict[str, set[int]] = {}
    failed: list[BaseException] = []
    start = threading.Barrier(6)

    def ask(who: str, seed: int) -> None:
        mine: set[int] = set()
        rng = random.Random(seed)
        start.wait()
        try:
            for _ in range(5):
                want = rng.sample(ids, 12)
                mine |= set(store.lease_review_items(want, who, 60).granted)
        except BaseException as exc:
            failed.append(exc)
        got[who] = mine

    threads = [threading.Thread(target=ask, args=(f"r{n}", n)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert failed == [] and len(got) == 6
    every = [i for held in got.values() for i in held]
    assert len(every) == len(set(every)) and every  # each item held by one reviewer at most
    stored = {i.id: i.leased_by for i in store.list_review_items(store.dataset_id("rq"))}
    for who, held in got.items():
        assert all(stored[i] == who for i in held)
