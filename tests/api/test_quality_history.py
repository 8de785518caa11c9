"""GET /v1/datasets/{name}/quality/history, .../jobs/history and /v1/recipes/{name}/history:
runs with their change and what moved (threshold from the query, else the setting)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.quality.test_history import _dataset, _run
from tests.quality.test_summary import _job, _real

from sentiforge.config import Settings
from sentiforge.store import Store


async def test_history_over_http(make_client: Callable[..., Any], tokens: dict[str, str], store: Store) -> None:
    samples = _dataset(store, "h", ["positive", "negative"] * 30)
    _run(store, store.dataset_id("h"), samples, reject_every=30, judge_off_every=30)
    _run(store, store.dataset_id("h"), samples, reject_every=2, judge_off_every=30)
    async with make_client(tokens["read"]) as client:
        got = (await client.get("/v1/datasets/h/quality/history", params={"threshold": 0.2})).json()
    assert [r["flagged"] for r in got] == [[], ["label_balance", "reject_rate"]]  # every 2nd (positive) rejected


async def test_job_history_by_dataset_and_by_recipe_over_http(
    make_client: Callable[..., Any], tokens: dict[str, str], store: Store, settings: Settings
) -> None:
    _real(store)
    steady = [await _job(store, "synth", None), await _job(store, "synth", None)]
    shifted = await _job(store, "synth", ["positive"], samey=True)
    async with make_client(tokens["read"]) as client:
        by_dataset = (await client.get("/v1/datasets/synth/jobs/history")).json()
        assert [r["job_id"] for r in by_dataset] == [*steady, shifted]
        assert by_dataset[1]["flagged"] == [] and "label_balance" in by_dataset[2]["flagged"]
        assert by_dataset[2]["labels"] == {"positive": 60} and by_dataset[2]["method"] == "ngram"
        by_recipe = (await client.get("/v1/recipes/reviews/history", params={"threshold": 0.9})).json()
        assert [r["job_id"] for r in by_recipe] == [*steady, shifted]
        assert all(r["flagged"] == [] for r in by_recipe)  # nothing moves by 0.9
        assert (await client.get("/v1/recipes/nope/history")).status_code == 404
    lax = settings.model_copy(update={"drift_threshold": 0.99})
    async with make_client(tokens["read"], app_settings=lax) as client:
        assert [r["flagged"] for r in (await client.get("/v1/datasets/synth/jobs/history")).json()] == [[], [], []]
