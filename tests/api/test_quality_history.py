"""GET /v1/datasets/{name}/quality/history: runs with their change and what moved."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.quality.test_history import _dataset, _run

from sentiforge.store import Store


async def test_history_over_http(make_client: Callable[..., Any], tokens: dict[str, str], store: Store) -> None:
    samples = _dataset(store, "h", ["positive", "negative"] * 30)
    _run(store, store.dataset_id("h"), samples, reject_every=30, judge_off_every=30)
    _run(store, store.dataset_id("h"), samples, reject_every=2, judge_off_every=30)
    async with make_client(tokens["read"]) as client:
        got = (await client.get("/v1/datasets/h/quality/history", params={"threshold": 0.2})).json()
    assert [r["flagged"] for r in got] == [[], ["label_balance", "reject_rate"]]  # every 2nd (positive) rejected
