"""Prediction: models listed with scheme, fingerprint and metrics; one text or a batch; a
default and a per-request model; a model trained while the server runs is served at once."""

from __future__ import annotations

from typing import Any

import httpx
from tests.api.conftest import SEEDS_CSV, wait_job


async def _train(client: httpx.AsyncClient, name: str, **extra: Any) -> dict[str, Any]:
    job = (await client.post("/v1/jobs/train", json={"dataset": "seeds", "out_dir": name, **extra})).json()
    return await wait_job(client, job["id"])


async def test_train_list_and_predict_without_restart(admin: httpx.AsyncClient) -> None:
    nothing = await admin.post("/v1/sentiment", json={"text": "hi"})  # nothing trained yet
    assert nothing.status_code == 404 and "SENTIFORGE_CLASSIFIERS_DIR" in nothing.json()["detail"]
    assert "/" not in nothing.json()["detail"].split("POST /v1")[0]  # the server's folder stays unsaid
    await admin.post("/v1/datasets/seeds/import", files={"file": ("s.csv", SEEDS_CSV)}, data={"splits": "0.7,0.3"})
    first = await _train(admin, "first")
    assert first["status"] == "completed" and first["result"]["model"] == "first", first
    models = (await admin.get("/v1/models")).json()
    assert [(m["id"], m["kind"], m["scheme"], m["default"]) for m in models] == [
        ("first", "tfidf", "three_class", True)
    ]
    assert models[0]["labels"] == ["negative", "neutral", "positive"] and len(models[0]["fingerprint"]) == 24
    assert "holdout" in models[0]["metrics"]
    one = (await admin.post("/v1/sentiment", json={"text": "wonderful staff, loved it"})).json()
    assert one["model"] == "first" and one["label"] == "positive"
    assert set(one["scores"]) == {"negative", "neutral", "positive"} and abs(sum(one["scores"].values()) - 1) < 0.01
    batch = (await admin.post("/v1/sentiment", json={"texts": ["terrible app, rude agent", "order placed"]})).json()
    assert [p["label"] for p in batch["predictions"]] == ["negative", "neutral"]
    second = await _train(admin, "second", evaluate=False)  # while the server runs
    assert second["status"] == "completed"
    ids = {m["id"]: m["default"] for m in (await admin.get("/v1/models")).json()}
    assert ids == {"first": False, "second": True}  # the newest is the default
    assert (await admin.post("/v1/sentiment", json={"text": "great"})).json()["model"] == "second"
    chosen = await admin.post("/v1/sentiment", json={"text": "great", "model": "first"})
    assert chosen.json()["model"] == "first"


async def test_bad_prediction_requests(admin: httpx.AsyncClient) -> None:
    await admin.post("/v1/datasets/seeds/import", files={"file": ("s.csv", SEEDS_CSV)})
    await _train(admin, "m", evaluate=False)
    for body in ({}, {"text": "a", "texts": ["b"]}, {"texts": []}, {"text": ""}, {"texts": ["ok", "  "]}, {"txt": "a"}):
        answer = await admin.post("/v1/sentiment", json=body)
        assert answer.status_code == 422, body
        assert answer.json()["detail"].startswith("invalid request")
    too_many = await admin.post("/v1/sentiment", json={"texts": ["x"] * 65})
    assert too_many.status_code == 422 and "limit is 64" in too_many.json()["detail"]
    unknown = await admin.post("/v1/sentiment", json={"text": "x", "model": "nope"})
    assert unknown.status_code == 404 and "GET /v1/models" in unknown.json()["detail"]


async def test_predict_scope_is_enough(make_client: Any, tokens: dict[str, str], admin: httpx.AsyncClient) -> None:
    await admin.post("/v1/datasets/seeds/import", files={"file": ("s.csv", SEEDS_CSV)})
    await _train(admin, "m", evaluate=False)
    async with make_client(tokens["predict"]) as client:
        assert (await client.post("/v1/sentiment", json={"text": "great"})).status_code == 200
