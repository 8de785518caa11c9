"""The review routes a fast reviewer and a team need: leases (two reviewers never hold one
item; a decision on another's item is a 409 naming them; a lease runs out), reasons and notes
stored with the decision, bulk decisions undone as one step (only by their maker), the day's
totals, text search, sort and offset pages; and hostile input refused with a 4xx."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from sentiforge.config import Settings
from sentiforge.store import Store
from sentiforge.testing.review_demo import build_queue


async def test_leases_keep_two_reviewers_apart_and_run_out(
    make_client: Callable[..., Any], tokens: dict[str, str], store: Store, settings: Settings
) -> None:
    build_queue(store, "rq", copies=2)
    short = settings.model_copy(update={"review_lease_seconds": 1.0})
    async with make_client(tokens["review"], short) as alice, make_client(tokens["admin"], short) as bob:
        ids = [i["id"] for i in (await alice.get("/v1/review/rq/items", params={"sort": "oldest"})).json()]
        # both ask for the same six at once: each item goes to exactly one of them
        a, b = await asyncio.gather(
            alice.post("/v1/review/leases", json={"ids": ids[:6]}), bob.post("/v1/review/leases", json={"ids": ids[:6]})
        )
        got_a, got_b = set(a.json()["granted"]), set(b.json()["granted"])
        assert got_a | got_b == set(ids[:6]) and not got_a & got_b
        held = a.json()["held"] if got_b else b.json()["held"]
        assert set(map(int, held)) == (got_b or got_a) and set(held.values()) <= {"review-user", "admin-user"}
        # the queue handed to each skips the other's items
        first = (alice if got_a else bob), (bob if got_a else alice)
        holder, other = first
        theirs = set(got_a or got_b)
        listed = {i["id"] for i in (await other.get("/v1/review/rq/items", params={"status": "pending"})).json()}
        assert not listed & theirs and len(listed) == 18 - len(theirs)
        total = (await other.get("/v1/review/rq/items", params={"status": "pending"})).headers["x-total-count"]
        assert int(total) == 18 - len(theirs)
        mine = sorted(theirs)[0]
        refused = await other.post(f"/v1/review/items/{mine}/decision", json={"action": "approve"})
        holder_name = "review-user" if holder is alice else "admin-user"
        assert refused.status_code == 409 and f"leased to {holder_name}" in refused.json()["detail"]
        # the holder decides one (its lease ends), releases another; the third runs out
        assert (await holder.post(f"/v1/review/items/{mine}/decision", json={"action": "approve"})).status_code == 200
        released = sorted(theirs)[1]
        assert (await holder.post("/v1/review/leases/release", json={"ids": [released]})).json() == {"released": 1}
        assert (await other.post("/v1/review/leases/release", json={"ids": [sorted(theirs)[2]]})).json() == {
            "released": 0
        }  # not its lease: it stays
        stored = {i.id: i for i in store.list_review_items(store.dataset_id("rq"), limit=100)}
        assert stored[mine].leased_by is None and stored[released].leased_by is None
        assert stored[sorted(theirs)[2]].leased_by == holder_name
        await asyncio.sleep(1.2)
        late = await other.post(f"/v1/review/items/{sorted(theirs)[2]}/decision", json={"action": "reject"})
        assert late.status_code == 200 and late.json()["decided_by"] != holder_name


async def test_next_hands_two_reviewers_disjoint_items(
    make_client: Callable[..., Any], tokens: dict[str, str], store: Store
) -> None:
    build_queue(store, "rq", copies=2)
    async with make_client(tokens["review"]) as alice, make_client(tokens["admin"]) as bob:
        a, b = await asyncio.gather(
            alice.post("/v1/review/rq/next", json={"n": 7}), bob.post("/v1/review/rq/next", json={"n": 7})
        )
        got_a, got_b = {i["id"] for i in a.json()}, {i["id"] for i in b.json()}
        assert len(got_a) == len(got_b) == 7 and not got_a & got_b
        assert all(i["leased_by"] == "review-user" for i in a.json())
        # her own leases are hers to renew: the 4 free items and her 7, none of bob's
        rest = {i["id"] for i in (await alice.post("/v1/review/rq/next", json={"n": 20})).json()}
        assert len(rest) == 11 and got_a < rest and not rest & got_b


async def test_reasons_and_notes_are_stored_with_the_decision(
    make_client: Callable[..., Any], tokens: dict[str, str], store: Store
) -> None:
    build_queue(store, "rq", copies=1)
    async with make_client(tokens["review"]) as client:
        summary = (await client.get("/v1/review/rq")).json()
        assert summary["reasons"] == ["wrong label", "not the domain", "agent voice", "unnatural", "duplicate", "other"]
        assert summary["lease_seconds"] == 300.0
        ids = [i["id"] for i in (await client.get("/v1/review/rq/items")).json()]
        body = {"action": "reject", "reason": "agent voice", "note": "sounds like the help desk"}
        done = (await client.post(f"/v1/review/items/{ids[0]}/decision", json=body)).json()
        assert (done["reason"], done["note"]) == ("agent voice", "sounds like the help desk")
        item = store.review_item(ids[0])
        assert (item.reason, item.note) == ("agent voice", "sounds like the help desk")
        sample = store.get_sample(item.sample_id)
        assert sample.reason == "review: rejected by review-user: agent voice (sounds like the help desk)"
        other = {"action": "relabel", "label": "neutral", "reason": "other", "note": "sarcasm"}
        assert (await client.post(f"/v1/review/items/{ids[1]}/decision", json=other)).json()["reason"] == "other"
        # hostile input: nothing is decided by any of these
        bad = [
            {"action": "reject", "reason": "ugly"},  # not a reason of this scheme
            {"action": "reject", "reason": "other"},  # other needs a note
            {"action": "approve", "note": "x" * 2_001},  # oversized note
            {"action": "relabel", "label": "very positive"},  # not a label of this scheme
            {"action": "reject", "reason": "r" * 61},
            {"action": "reject", "why": "extra field"},
        ]
        for b in bad:
            r = await client.post(f"/v1/review/items/{ids[2]}/decision", json=b)
            assert r.status_code == 422, (b, r.text)
            assert r.json()["detail"]
        assert (
            "choose one of" in (await client.post(f"/v1/review/items/{ids[2]}/decision", json=bad[0])).json()["detail"]
        )
        assert store.review_item(ids[2]).status == "pending"
        standing = store.review_decisions(store.dataset_id("rq"))
        assert len(standing) == 2


async def test_a_scheme_overrides_the_reasons(
    make_client: Callable[..., Any], tokens: dict[str, str], store: Store
) -> None:
    from sentiforge.labels import get_scheme
    from sentiforge.store.tables import DatasetRow

    build_queue(store, "rq", copies=1)
    scheme = get_scheme("three_class").model_copy(update={"review_reasons": ("off topic", "spam")})
    with store.session() as s:
        s.query(DatasetRow).filter(DatasetRow.name == "rq").update({"scheme": scheme.model_dump(mode="json")})
        s.commit()
    async with make_client(tokens["review"]) as client:
        assert (await client.get("/v1/review/rq")).json()["reasons"] == ["off topic", "spam"]
        first = (await client.get("/v1/review/rq/items")).json()[0]["id"]
        refused = await client.post(
            f"/v1/review/items/{first}/decision", json={"action": "reject", "reason": "duplicate"}
        )
        assert refused.status_code == 422 and "spam" in refused.json()["detail"]
        ok = await client.post(f"/v1/review/items/{first}/decision", json={"action": "reject", "reason": "spam"})
        assert ok.json()["reason"] == "spam"


async def test_bulk_is_undone_as_one_step_by_its_maker_only(
    make_client: Callable[..., Any], tokens: dict[str, str], store: Store
) -> None:
    build_queue(store, "rq", copies=2)
    async with make_client(tokens["review"]) as alice, make_client(tokens["admin"]) as bob:
        ids = [i["id"] for i in (await alice.get("/v1/review/rq/items", params={"limit": 10})).json()]
        await bob.post("/v1/review/leases", json={"ids": ids[:1]})  # bob holds the first: it fails alone
        out = (await alice.post("/v1/review/bulk", json={"ids": ids, "action": "reject", "reason": "duplicate"})).json()
        assert out["decided"] == ids[1:] and list(out["failed"]) == [str(ids[0])]
        assert "leased to admin-user" in out["failed"][str(ids[0])]
        bulk_id = out["bulk_id"]
        assert {store.review_item(i).bulk_id for i in ids[1:]} == {bulk_id}
        assert store.get_sample(store.review_item(ids[1]).sample_id).status == "rejected"
        # bob may not undo alice's bulk; unknown and malformed ids are refused
        theirs = await bob.post(f"/v1/review/bulk/{bulk_id}/undo")
        assert theirs.status_code == 409 and "review-user" in theirs.json()["detail"]
        assert (await alice.post(f"/v1/review/bulk/{'0' * 32}/undo")).status_code == 404
        assert (await alice.post("/v1/review/bulk/NOTHEX/undo")).status_code == 422
        assert all(store.review_item(i).status == "rejected" for i in ids[1:])
        undone = (await alice.post(f"/v1/review/bulk/{bulk_id}/undo")).json()["undone"]
        assert undone == sorted(ids[1:])
        for i in ids[1:]:
            item = store.review_item(i)
            assert (item.status, item.bulk_id, item.reason, item.decided_by) == ("pending", None, None, None)
            assert store.get_sample(item.sample_id).status == "accepted"
        assert store.review_decisions(store.dataset_id("rq")) == []
        again = (await alice.post(f"/v1/review/bulk/{bulk_id}/undo")).json()
        assert again == {"undone": []}


async def test_totals_search_sort_and_pages(
    make_client: Callable[..., Any], tokens: dict[str, str], store: Store
) -> None:
    build_queue(store, "rq", copies=3)
    async with make_client(tokens["review"]) as alice, make_client(tokens["admin"]) as bob:
        items = (await alice.get("/v1/review/rq/items", params={"sort": "oldest", "limit": 1000})).json()
        assert [i["id"] for i in items] == sorted(i["id"] for i in items) and len(items) == 27
        for i in items[:3]:
            await alice.post(f"/v1/review/items/{i['id']}/decision", json={"action": "approve"})
        await bob.post(f"/v1/review/items/{items[3]['id']}/decision", json={"action": "reject"})
        await alice.post(f"/v1/review/items/{items[2]['id']}/undo")  # an undone one does not count
        totals = (await alice.get("/v1/review/rq")).json()["totals"]
        assert (totals["mine"], totals["everyone"]) == (2, 3)
        assert totals["by_reviewer"] == {"review-user": 2, "admin-user": 1}
        assert (await bob.get("/v1/review/rq")).json()["totals"]["mine"] == 1
        # text search, any case; sorts; offset pages with the total in a header
        found = (await alice.get("/v1/review/rq/items", params={"q": "PIZZA"})).json()
        assert len(found) == 3 and all("pizza" in i["text"].lower() for i in found)
        assert (await alice.get("/v1/review/rq/items", params={"q": "100%_"})).json() == []
        scores = [i["score"] for i in (await alice.get("/v1/review/rq/items", params={"sort": "-score"})).json()]
        assert scores == sorted(scores, reverse=True) and scores[0] > scores[-1]
        labels = [i["label"] for i in (await alice.get("/v1/review/rq/items", params={"sort": "label"})).json()]
        assert labels == sorted(labels)
        newest = (await alice.get("/v1/review/rq/items", params={"sort": "newest", "limit": 1})).json()[0]["id"]
        assert newest == max(i["id"] for i in items)
        pages, offset = [], 0
        while True:
            r = await alice.get("/v1/review/rq/items", params={"sort": "oldest", "limit": 10, "offset": offset})
            assert r.headers["x-total-count"] == "27"
            if not r.json():
                break
            pages.append([i["id"] for i in r.json()])
            offset += 10
        assert [len(p) for p in pages] == [10, 10, 7] and [i for p in pages for i in p] == [i["id"] for i in items]
        for params in ({"sort": "random"}, {"offset": -1}, {"limit": 0}, {"q": "a\x00b"}, {"q": "x" * 201}):
            assert (await alice.get("/v1/review/rq/items", params=params)).status_code == 422, params


async def test_lease_input_is_checked(make_client: Callable[..., Any], tokens: dict[str, str], store: Store) -> None:
    build_queue(store, "rq", copies=1)
    async with make_client(tokens["review"]) as client:
        for body in ({"ids": []}, {"ids": [0]}, {"ids": list(range(1, 502))}, {"ids": ["1"]}, {}):
            assert (await client.post("/v1/review/leases", json=body)).status_code == 422, body
        out = (await client.post("/v1/review/leases", json={"ids": [1, 999_999]})).json()
        assert out["granted"] == [1] and out["held"] == {} and out["decided"] == []
        assert (await client.post("/v1/review/rq/next", json={"n": 0})).status_code == 422
    async with make_client(tokens["read"]) as reader:
        assert (await reader.post("/v1/review/leases", json={"ids": [1]})).status_code == 403
