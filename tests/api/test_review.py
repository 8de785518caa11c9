"""The review routes: filtered items with what helps decide, decisions under the key's name,
undo, bulk, second opinions and agreement; the review scope."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sentiforge.store import Store
from sentiforge.testing.review_demo import build_queue


async def test_review_flow_records_the_key_name(
    make_client: Callable[..., Any], tokens: dict[str, str], store: Store
) -> None:
    build_queue(store, "rq", copies=1)
    async with make_client(tokens["read"]) as reader:
        assert (await reader.get("/v1/review/rq")).status_code == 403
    async with make_client(tokens["review"]) as client:
        summary = (await client.get("/v1/review/rq")).json()
        assert summary["counts"] == {"pending": 9} and summary["labels"] == ["negative", "neutral", "positive"]
        assert summary["guidelines"]["negative"]
        items = (await client.get("/v1/review/rq/items")).json()
        first = items[0]
        assert first["parent_text"].startswith("seed: ") and first["strategy"] in ("seeded", "generate")
        assert first["checks"]["consistency"]["detail"]["judge"] and first["attributes"]["length"] == "short"
        flagged = (await client.get("/v1/review/rq/items", params={"reason": "judge says"})).json()
        assert flagged and all("judge says" in i["queued_reason"] for i in flagged)
        low = (await client.get("/v1/review/rq/items", params={"max_score": 0.1, "label": "neutral"})).json()
        assert all(i["score"] <= 0.1 and i["label"] == "neutral" for i in low)
        done = (await client.post(f"/v1/review/items/{first['id']}/decision", json={"action": "reject"})).json()
        assert done["status"] == "rejected" and done["decided_by"] == "review-user"
        again = await client.post(f"/v1/review/items/{first['id']}/decision", json={"action": "approve"})
        assert again.status_code == 409
        assert (await client.post(f"/v1/review/items/{first['id']}/undo")).json()["status"] == "pending"
        bad = await client.post(f"/v1/review/items/{first['id']}/decision", json={"action": "relabel", "label": "meh"})
        assert bad.status_code == 400 or bad.status_code == 422
        ids = [i["id"] for i in items[:4]]
        out = (await client.post("/v1/review/bulk", json={"ids": ids, "action": "approve"})).json()
        assert (out["decided"], out["failed"]) == (ids, {}) and len(out["bulk_id"]) == 32
        out = (await client.post("/v1/review/bulk", json={"ids": ids[:1], "action": "reject"})).json()
        assert list(out["failed"]) == [str(ids[0])]
    async with make_client(tokens["admin"]) as other:
        for item_id in ids:
            r = await other.post(f"/v1/review/items/{item_id}/second", json={"status": "approved"})
            assert r.status_code == 204
        assert (await other.get("/v1/review/rq")).json()["agreement"] == {"pairs": 4, "kappa": 1.0}
        assert (await other.get("/review")).text.startswith("<!doctype html>")
        assert "keydown" in (await other.get("/static/review.js")).text


async def test_second_opinions_list_what_others_decided_as_it_was_queued(
    make_client: Callable[..., Any], tokens: dict[str, str], store: Store
) -> None:
    build_queue(store, "rq", copies=1)
    async with make_client(tokens["review"]) as first:
        items = (await first.get("/v1/review/rq/items")).json()
        a, b, c = items[0], items[1], items[2]
        other = next(lb for lb in ("negative", "neutral", "positive") if lb != b["label"])
        await first.post(f"/v1/review/items/{a['id']}/decision", json={"action": "approve"})
        await first.post(f"/v1/review/items/{b['id']}/decision", json={"action": "relabel", "label": other})
        await first.post(f"/v1/review/items/{c['id']}/decision", json={"action": "edit", "text": "Changed."})
        assert (await first.get("/v1/review/rq/items", params={"second": True})).json() == []  # all its own
    async with make_client(tokens["admin"]) as second:
        waiting = {i["id"]: i for i in (await second.get("/v1/review/rq/items", params={"second": True})).json()}
        assert set(waiting) == {a["id"], b["id"], c["id"]}
        assert (waiting[b["id"]]["label"], waiting[b["id"]]["queued_label"]) == (other, b["label"])
        assert (waiting[c["id"]]["text"], waiting[c["id"]]["queued_text"]) == ("Changed.", c["text"])
        # approving as queued disagrees with the first reviewer's relabel
        assert (await second.post(f"/v1/review/items/{b['id']}/second", json={"status": "approved"})).status_code == 204
        left = (await second.get("/v1/review/rq/items", params={"second": True})).json()
        assert {i["id"] for i in left} == {a["id"], c["id"]}
    assert store.review_decisions(store.dataset_id("rq"))[-1][1:] == ("admin-user", "approved", b["label"])
