"""Jobs over HTTP: created from the request models, run in the background by the server,
listed, watched (events, progress, SSE), cancelled, resumed; bad requests change nothing."""

from __future__ import annotations

import json
from typing import Any

import httpx
from tests.api.conftest import wait_job

from sentiforge.store import Store

FAKE = {"kind": "fake"}


async def test_generate_runs_in_the_background_to_completion(admin: httpx.AsyncClient, store: Store) -> None:
    made = await admin.post("/v1/jobs/generate", json={"dataset": "synth", "count": 9, "backend": FAKE})
    assert made.status_code == 202
    job = made.json()
    assert job["kind"] == "generate" and job["target"] == 9 and job["request"]["count"] == 9
    done = await wait_job(admin, job["id"])
    assert done["status"] == "completed" and done["done"] == 9
    assert store.count(store.dataset_id("synth")) == 9
    kinds = [e["kind"] for e in (await admin.get(f"/v1/jobs/{job['id']}/events")).json()]
    assert kinds == ["created", "started", "finished"]
    progress = (await admin.get(f"/v1/jobs/{job['id']}/progress")).json()
    assert (progress["done"], progress["target"], progress["percent"], progress["status"]) == (9, 9, 100.0, "completed")


async def test_list_pages_and_filters(admin: httpx.AsyncClient) -> None:
    ids = []
    for i in range(3):
        ids.append(
            (await admin.post("/v1/jobs/generate", json={"dataset": f"d{i}", "count": 3, "backend": FAKE})).json()["id"]
        )
    for job_id in ids:
        await wait_job(admin, job_id)
    first = (await admin.get("/v1/jobs", params={"limit": 2})).json()
    assert [j["id"] for j in first["items"]] == ids[:2] and first["next_cursor"] == ids[1]
    rest = (await admin.get("/v1/jobs", params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert [j["id"] for j in rest["items"]] == ids[2:] and rest["next_cursor"] is None
    by_dataset = (await admin.get("/v1/jobs", params={"dataset": "d1"})).json()["items"]
    assert [j["id"] for j in by_dataset] == [ids[1]]
    assert len((await admin.get("/v1/jobs", params={"status": "completed"})).json()["items"]) == 3
    assert (await admin.get("/v1/jobs", params={"status": "queued"})).json()["items"] == []
    bad = await admin.get("/v1/jobs", params={"status": "pending"})
    assert bad.status_code == 422 and "queued" in bad.json()["detail"]
    missing = await admin.get("/v1/jobs", params={"dataset": "nope"})
    assert missing.status_code == 404


async def test_sse_stream_sends_progress_events_and_ends(admin: httpx.AsyncClient) -> None:
    job = (await admin.post("/v1/jobs/generate", json={"dataset": "s", "count": 6, "backend": FAKE})).json()
    events: list[tuple[str, Any]] = []
    async with admin.stream("GET", f"/v1/jobs/{job['id']}/stream") as answer:
        assert answer.headers["content-type"].startswith("text/event-stream")
        assert answer.headers["x-accel-buffering"] == "no"
        kind = ""
        async for line in answer.aiter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                events.append((kind, json.loads(line[6:])))
    kinds = [k for k, _ in events]
    assert kinds[-1] == "end" and events[-1][1] == {"status": "completed"}
    assert {"created", "started", "finished", "progress"} <= set(kinds)
    assert [d for k, d in events if k == "progress"][-1]["done"] == 6


async def test_cancel_of_a_finished_job_is_409_and_changes_nothing(admin: httpx.AsyncClient, store: Store) -> None:
    job = (await admin.post("/v1/jobs/generate", json={"dataset": "c", "count": 3, "backend": FAKE})).json()
    before = await wait_job(admin, job["id"])
    answer = await admin.post(f"/v1/jobs/{job['id']}/cancel")
    assert answer.status_code == 409 and "nothing to cancel" in answer.json()["detail"]
    after = (await admin.get(f"/v1/jobs/{job['id']}")).json()
    assert after == before
    resumed = await admin.post(f"/v1/jobs/{job['id']}/resume")
    assert resumed.status_code == 409 and "completed" in resumed.json()["detail"]
    assert (await admin.post("/v1/jobs/999/cancel")).status_code == 404


async def test_cancel_a_queued_job_then_resume_it(admin: httpx.AsyncClient, store: Store) -> None:
    from sentiforge.app import jobs
    from sentiforge.app.requests import GenerateRequest
    from sentiforge.recipe import BackendSpec

    job_id = jobs.submit(store, GenerateRequest(dataset="q", count=4, backend=BackendSpec(kind="fake")))
    cancelled = await admin.post(f"/v1/jobs/{job_id}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    resumed = await admin.post(f"/v1/jobs/{job_id}/resume", json={"max_cost": 1.5})
    assert resumed.status_code == 202
    done = await wait_job(admin, job_id)
    assert done["status"] == "completed" and done["recipe"]["max_cost"] == 1.5


async def test_a_cancel_of_a_job_waiting_for_a_slot_sticks(
    make_client: Any, tokens: dict[str, str], settings: Any
) -> None:
    """Issue 21.4: a job queued behind a full runner, cancelled, never starts when the slot frees."""
    import asyncio

    one_slot = settings.model_copy(update={"max_running_jobs": 1})
    slow = {"kind": "fake", "fake_latency": 0.1, "concurrency": 1}
    async with make_client(tokens["admin"], one_slot) as client:
        first = (await client.post("/v1/jobs/generate", json={"dataset": "a", "count": 6, "backend": slow})).json()
        second = (await client.post("/v1/jobs/generate", json={"dataset": "b", "count": 6, "backend": FAKE})).json()
        await asyncio.sleep(0.2)
        assert (await client.get(f"/v1/jobs/{second['id']}")).json()["status"] == "queued"
        cancelled = await client.post(f"/v1/jobs/{second['id']}/cancel")
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        assert (await wait_job(client, first["id"]))["status"] == "completed"
        after = await wait_job(client, second["id"])  # its waiting task took the slot, found it cancelled
        assert (after["status"], after["done"], after["requests"], after["cache_hits"]) == ("cancelled", 0, 0, 0)
        kinds = [e["kind"] for e in (await client.get(f"/v1/jobs/{second['id']}/events")).json()]
        assert kinds == ["created", "cancelled"]
        assert (await client.post(f"/v1/jobs/{second['id']}/resume")).status_code == 202
        assert (await wait_job(client, second["id"]))["status"] == "completed"


async def test_cancel_a_running_job(admin: httpx.AsyncClient) -> None:
    slow = {"kind": "fake", "fake_latency": 0.2, "concurrency": 1}
    job = (await admin.post("/v1/jobs/generate", json={"dataset": "slow", "count": 200, "backend": slow})).json()
    for _ in range(100):
        if (await admin.get(f"/v1/jobs/{job['id']}")).json()["status"] == "running":
            break
        import asyncio

        await asyncio.sleep(0.05)
    asked = await admin.post(f"/v1/jobs/{job['id']}/cancel")
    assert asked.status_code == 200 and asked.json()["cancel_requested"] is True
    done = await wait_job(admin, job["id"])
    assert done["status"] == "cancelled" and done["done"] < 200


async def test_bad_requests_are_clear_4xx_and_store_nothing(admin: httpx.AsyncClient, store: Store) -> None:
    malformed = await admin.post(
        "/v1/jobs/generate", content=b'{"dataset": "x",', headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 400 and "malformed JSON" in malformed.json()["detail"]
    unknown_field = await admin.post("/v1/jobs/generate", json={"dataset": "x", "cuont": 3})
    assert unknown_field.status_code == 422 and "cuont" in unknown_field.json()["detail"]
    scheme = await admin.post("/v1/jobs/generate", json={"dataset": "x", "scheme": "no_such_scheme", "backend": FAKE})
    assert scheme.status_code == 422 and "no_such_scheme" in scheme.json()["detail"]
    seeds = await admin.post("/v1/jobs/augment", json={"dataset": "x", "seeds": "missing", "backend": FAKE})
    assert seeds.status_code == 404 and "missing" in seeds.json()["detail"]
    quality = await admin.post("/v1/jobs/quality", json={"dataset": "missing", "judge": "none"})
    assert quality.status_code == 404 and "missing" in quality.json()["detail"]
    train = await admin.post("/v1/jobs/train", json={"dataset": "/etc/passwd.csv", "out_dir": "m"})
    assert train.status_code == 422 and "stored datasets" in train.json()["detail"]
    escape = await admin.post("/v1/jobs/train", json={"dataset": "uci:yelp", "out_dir": "../outside"})
    assert escape.status_code == 422 and "model name" in escape.json()["detail"]
    templates = await admin.post("/v1/jobs/generate", json={"dataset": "x", "templates": "/tmp", "backend": FAKE})
    assert templates.status_code == 422
    steer = {"kind": "openai", "base_url": "http://127.0.0.1:9/v1", "api_key_env": "OPENAI_API_KEY"}
    steered = await admin.post("/v1/jobs/generate", json={"dataset": "x", "backend": steer})
    assert steered.status_code == 422 and "SENTIFORGE_BACKEND_URLS" in steered.json()["detail"]
    assert store.list_jobs() == [] and store.list_datasets() == []


async def test_a_restart_reclaims_jobs_left_running(make_client: Any, tokens: dict[str, str], store: Store) -> None:
    from sentiforge.app import jobs
    from sentiforge.app.requests import GenerateRequest
    from sentiforge.recipe import BackendSpec

    job_id = jobs.submit(store, GenerateRequest(dataset="orphan", count=3, backend=BackendSpec(kind="fake")))
    store.claim_job(job_id, "this-host-is-gone:1")  # a server that died while running it
    store.update_job(job_id, heartbeat_at=None)
    async with make_client(tokens["admin"]) as client:
        job = (await client.get(f"/v1/jobs/{job_id}")).json()
        assert job["status"] == "incomplete" and "resume" in job["error"]
        assert [e["kind"] for e in (await client.get(f"/v1/jobs/{job_id}/events")).json()][-1] == "reclaimed"
        await client.post(f"/v1/jobs/{job_id}/resume")
        assert (await wait_job(client, job_id))["status"] == "completed"


async def test_a_refused_job_leaves_no_dataset_behind(admin: httpx.AsyncClient, store: Store) -> None:
    """Issue 21.8: requests refused after their dataset's name was seen (a count beyond what a
    job can hold, a recipe whose plan cannot be built) store nothing."""
    huge = await admin.post("/v1/jobs/generate", json={"dataset": "huge", "count": 2**40, "backend": FAKE})
    assert 400 <= huge.status_code < 500, huge.text
    bad_plan = {"steps": [{"strategy": "generate", "params": {"count": 3, "no_such_option": 1}}], "backend": FAKE}
    refused = await admin.post("/v1/jobs/recipe", json={"dataset": "bad", "recipe": bad_plan})
    assert 400 <= refused.status_code < 500, refused.text
    assert store.list_jobs() == [] and store.list_datasets() == []


async def test_concurrent_creates_of_one_new_dataset_all_succeed(admin: httpx.AsyncClient, store: Store) -> None:
    """Issue 21.8: 20 jobs created at once into one new dataset: one makes it, all 20 are
    accepted (no wrong 409 "exists already"), on SQLite and PostgreSQL."""
    import asyncio

    body = {"dataset": "together", "count": 3, "backend": FAKE}
    answers = await asyncio.gather(*(admin.post("/v1/jobs/generate", json=body) for _ in range(20)))
    assert [a.status_code for a in answers] == [202] * 20, [a.text for a in answers if a.status_code != 202]
    assert [d.name for d in store.list_datasets()] == ["together"]
    for answer in answers:
        await wait_job(admin, answer.json()["id"])
    assert len({j.dataset_id for j in store.list_jobs()}) == 1
