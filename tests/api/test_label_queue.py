"""Label these next over HTTP: the queue of a pool for a model, labels stored in the human seed
dataset under the caller's key name, the model rebuilt from it; scopes and hostile input."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sentiforge.config import Settings
from sentiforge.store import Store
from sentiforge.testing.label_pool import POOL, SEEDS, build_label_pool


@pytest.fixture
def pool(store: Store, settings: Settings) -> tuple[str, str, str]:
    return build_label_pool(store, settings.classifiers_dir)


async def _queue(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    answer = await client.get("/v1/label-queue", params={"pool": "lp-pool", "model": "lp-model", **params})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def test_queue_then_labels_go_to_the_human_seed_dataset(
    make_client: Any, tokens: dict[str, str], store: Store, pool: tuple[str, str, str]
) -> None:
    async with make_client(tokens["review"]) as client:
        first = await _queue(client, n=5)
        assert (first["into"], first["pool_size"], first["labelled"]) == ("lp-pool-human", len(POOL), 0)
        assert first["labels"] == ["negative", "neutral", "positive"] and len(first["items"]) == 5
        margins = [it["margin"] for it in first["items"]]
        assert margins == sorted(margins)  # most uncertain first
        assert first["items"][0]["text"].startswith(("great", "lovely"))  # a mixed text, not a clear one
        assert first["items"] == (await _queue(client, n=5))["items"]  # deterministic
        assert {it["cluster"] for it in first["items"]} == {-1}  # margin alone: no groups
        diverse = await _queue(client, n=5, method="diverse-margin")  # one per group of similar texts
        clusters = [it["cluster"] for it in diverse["items"]]
        assert len(set(clusters)) == 5 and min(clusters) >= 0
        given = []
        for item, label in zip(first["items"][:3], ["negative", "positive", "neutral"], strict=True):
            answer = await client.post("/v1/label-queue/labels", json={"pool": "lp-pool", "model": "lp-model",
                                                                       "id": item["id"], "label": label})  # fmt: skip
            assert answer.status_code == 201, answer.text
            assert answer.json()["reviewer"] == "review-user" and answer.json()["dataset"] == "lp-pool-human"
            given.append((item["id"], item["text"], label))
        again = await _queue(client, n=25)
        assert again["labelled"] == 3
        assert not {i for i, _, _ in given} & {it["id"] for it in again["items"]}  # labelled texts are left out
        assert len(again["items"]) == len(POOL) - 3
        body = {"pool": "lp-pool", "model": "lp-model", "id": given[0][0], "label": "neutral"}
        twice = await client.post("/v1/label-queue/labels", json=body)
        assert twice.status_code == 409 and "review-user" in twice.json()["detail"]
    human = store.dataset("lp-pool-human")
    assert human.meta["human"] is True and human.meta["seeds"] == {"source": "lp-seeds", "copied": 9}
    stored = store.samples(human.id)
    assert len(stored) == 9 + 3
    labels = [s for s in stored if s.provenance.strategy == "human"]
    assert [(s.provenance.params["pool_id"], s.text, s.label) for s in labels] == given
    assert all(s.provenance.params["reviewer"] == "review-user" and s.provenance.params["labelled_at"] for s in labels)
    copied = {(s.text, s.label) for s in stored if s.provenance.strategy != "human"}
    assert copied == {(t, lb) for lb, ts in SEEDS.items() for t in ts}


async def test_the_model_is_rebuilt_from_the_human_seed_dataset(
    admin: httpx.AsyncClient, store: Store, settings: Settings, pool: tuple[str, str, str]
) -> None:
    from sentiforge.app.build import BuildRequest, build
    from sentiforge.classifiers import load_classifier

    items = (await _queue(admin, n=6))["items"]
    truth = {"awful": "negative", "wonderful": "positive", "the": "neutral", "great": "positive", "lovely": "positive"}
    for it in items:
        body = {"pool": "lp-pool", "model": "lp-model", "id": it["id"], "label": truth[it["text"].split()[0]]}
        assert (await admin.post("/v1/label-queue/labels", json=body)).status_code == 201
    out = settings.classifiers_dir / "lp-rebuilt"
    request = BuildRequest.build(seeds="lp-pool-human", out_dir=str(out), classifiers=["fake"], folds=2,
                                 self_training=False, pseudo_sizes=[], bootstrap=100)  # fmt: skip
    built = build(request, db=settings.database_url)
    assert built.seeds == 9 + 6
    model = load_classifier(built.folder)
    assert model.info.training_data["source"] == "lp-pool-human" and model.info.training_data["size"] == 15


async def test_scopes(make_client: Any, tokens: dict[str, str], pool: tuple[str, str, str]) -> None:
    body = {"pool": "lp-pool", "model": "lp-model", "id": 1, "label": "neutral"}
    async with make_client(tokens["read"]) as client:
        await _queue(client)
        assert (await client.post("/v1/label-queue/labels", json=body)).status_code == 403
    async with make_client(tokens["predict"]) as client:
        assert (await client.get("/v1/label-queue", params={"pool": "lp-pool"})).status_code == 403
    async with make_client() as client:
        assert (await client.get("/v1/label-queue", params={"pool": "lp-pool"})).status_code == 401


async def test_hostile_and_wrong_input_is_a_clear_4xx(
    admin: httpx.AsyncClient, store: Store, pool: tuple[str, str, str]
) -> None:
    seeds_id = store.dataset_id("lp-seeds")
    seed_sample = store.samples(seeds_id)[0].id
    pool_item = (await _queue(admin, n=1))["items"][0]["id"]
    good = {"pool": "lp-pool", "model": "lp-model", "id": pool_item, "label": "neutral"}
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({**good, "model": "nope"}, 404, "no model named 'nope'"),
        ({**good, "pool": "nopool"}, 404, "no dataset named 'nopool'"),
        ({**good, "label": "ecstatic"}, 422, "not one of the model's labels"),
        ({**good, "id": seed_sample}, 404, "pool 'lp-pool' has no text with id"),
        ({**good, "id": 10**6}, 404, "has no text with id"),
        ({**good, "id": 0}, 422, "invalid request"),
        ({**good, "id": "3"}, 422, "invalid request"),
        ({**good, "id": 2**40}, 422, "invalid request"),
        ({**good, "label": "x" * 10_000}, 422, "invalid request"),
        ({**good, "label": "neu\x00tral"}, 422, "NUL"),
        ({**good, "pool": "../etc/passwd"}, 422, "invalid request"),
        ({**good, "model": "../lp-model"}, 422, "invalid request"),
        ({**good, "into": "lp-seeds"}, 409, "not a human seed dataset"),
        ({**good, "into": "a" * 101}, 422, "invalid request"),
        ({**good, "extra": 1}, 422, "invalid request"),
        ({k: v for k, v in good.items() if k != "label"}, 422, "invalid request"),
    ]
    for body, code, message in cases:
        answer = await admin.post("/v1/label-queue/labels", json=body)
        assert (answer.status_code, message in answer.json()["detail"]) == (code, True), (body, answer.text)
    json_type = {"Content-Type": "application/json"}
    bad_json = await admin.post("/v1/label-queue/labels", content=b"{not json", headers=json_type)
    assert bad_json.status_code == 400 and "malformed JSON" in bad_json.json()["detail"]
    queries: list[tuple[dict[str, Any], int]] = [
        ({"pool": "lp-pool", "n": 0}, 422), ({"pool": "lp-pool", "n": 101}, 422), ({"pool": "lp-pool", "n": "x"}, 422),
        ({"pool": "lp-pool", "method": "entropy"}, 422), ({"pool": "lp pool"}, 422), ({}, 422),
        ({"pool": "lp-pool", "model": "nope"}, 404), ({"pool": "nopool"}, 404), ({"pool": "lp-pool", "seed": -1}, 422),
    ]  # fmt: skip
    for params, code in queries:
        answer = await admin.get("/v1/label-queue", params=params)
        assert answer.status_code == code, (params, answer.text)
        assert answer.json()["detail"]
    assert "lp-pool-human" not in [d.name for d in store.list_datasets()]  # nothing half-written
