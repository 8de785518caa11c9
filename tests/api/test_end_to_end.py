"""Through the API alone: import seeds, generate with the fake backend, run the quality gate,
evaluate, train on the gated data, predict; and a provider key never appears in a response,
a log line or the database."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from sqlalchemy import inspect, text
from tests.api.conftest import SEEDS_CSV, wait_job

from sentiforge.config import Settings
from sentiforge.store import Store


async def test_seeds_to_predictions(admin: httpx.AsyncClient, store: Store) -> None:
    imported = await admin.post(
        "/v1/datasets/seeds/import", files={"file": ("s.csv", SEEDS_CSV)}, data={"splits": "0.8,0.2"}
    )
    assert imported.status_code == 201
    gen = {"dataset": "synth", "count": 24, "seeds": "seeds", "backend": {"kind": "fake"}}
    job = await wait_job(admin, (await admin.post("/v1/jobs/generate", json=gen)).json()["id"])
    assert job["status"] == "completed" and job["done"] == 24
    gate = {"dataset": "synth", "seeds": "seeds", "judge": "none", "embedder": "none"}
    quality = await wait_job(admin, (await admin.post("/v1/jobs/quality", json=gate)).json()["id"])
    assert quality["status"] == "completed" and quality["result"]["examined"] == 24, quality
    ev = {"real": "seeds", "synthetic": "synth", "bootstrap": 50, "cv": 2, "embedder": "fake", "out_dir": "ignored"}
    evaluation = await wait_job(admin, (await admin.post("/v1/jobs/evaluate", json=ev)).json()["id"])
    assert evaluation["status"] == "completed", evaluation["error"]
    report = await admin.get(f"/v1/evaluations/{evaluation['id']}")
    assert report.status_code == 200 and "tstr" in report.json()
    html = await admin.get(f"/v1/evaluations/{evaluation['id']}/report.html")
    assert html.status_code == 200 and html.text.lstrip().lower().startswith("<!doctype html")
    assert [e["id"] for e in (await admin.get("/v1/evaluations")).json()["items"]] == [evaluation["id"]]
    assert (await admin.get(f"/v1/evaluations/{job['id']}")).status_code == 404  # not an evaluation
    trained = await wait_job(
        admin, (await admin.post("/v1/jobs/train", json={"dataset": "synth", "out_dir": "synth-model"})).json()["id"]
    )
    assert trained["status"] == "completed", trained["error"]
    answer = (await admin.post("/v1/sentiment", json={"texts": ["I loved it", "awful"]})).json()
    assert answer["model"] == "synth-model" and len(answer["predictions"]) == 2
    kinds = [j["kind"] for j in (await admin.get("/v1/jobs")).json()["items"]]
    assert kinds == ["generate", "quality", "evaluate", "train"]


SECRET = "sk-test-DO-NOT-LEAK-5b1f2c"


async def test_the_provider_key_stays_out_of_responses_logs_and_database(
    make_client: Any,
    tokens: dict[str, str],
    settings: Settings,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    from sentiforge.testing.server import OpenAITestServer

    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    caplog.set_level(logging.DEBUG)
    bodies: list[str] = []
    with OpenAITestServer(api_key=SECRET) as server:  # refuses any other key
        allowed = settings.model_copy(update={"backend_urls": server.base_url})
        async with make_client(tokens["admin"], app_settings=allowed) as client:
            backend = {"kind": "openai", "model": "m", "base_url": server.base_url, "api_key_env": "OPENAI_API_KEY"}
            made = await client.post("/v1/jobs/generate", json={"dataset": "api", "count": 3, "backend": backend})
            bodies.append(made.text)
            job = await wait_job(client, made.json()["id"])
            assert job["status"] == "completed", job["error"]
            assert server.counts["ok"] >= 3  # the key was sent to the provider, and only there
            for path in (
                "/v1/jobs",
                f"/v1/jobs/{job['id']}",
                f"/v1/jobs/{job['id']}/events",
                "/metrics",
                "/v1/datasets/api/samples",
            ):
                bodies.append((await client.get(path)).text)
            bodies.append((await client.get("/v1/datasets/api/export")).content.decode("latin-1"))
    assert not [b for b in bodies if SECRET in b]
    assert SECRET not in caplog.text and SECRET not in "".join(capfd.readouterr())
    with store.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            rows = conn.execute(text(f"SELECT * FROM {table}")).all()
            assert SECRET not in repr(rows), table


def _metric(text: str, name: str, kind: str) -> float:
    """The value of ``name{kind="..."}`` in Prometheus exposition text (0 when absent)."""
    for line in text.splitlines():
        if line.startswith(f'{name}{{kind="{kind}"}}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_llm_rate_limit_waits_of_a_job_show_in_the_metrics(
    make_client: Any, tokens: dict[str, str], settings: Settings
) -> None:
    """A job told its provider allows 120 requests/min (one every 0.5 s after a burst) waits in
    its limiter; the server counts the waits and their seconds by kind."""
    from sentiforge.testing.server import OpenAITestServer

    with OpenAITestServer() as server:
        allowed = settings.model_copy(update={"backend_urls": server.base_url})
        async with make_client(tokens["admin"], app_settings=allowed) as client:
            before = (await client.get("/metrics")).text
            backend = {"kind": "openai", "model": "m", "base_url": server.base_url, "requests_per_minute": 120}
            made = await client.post("/v1/jobs/generate", json={"dataset": "paced", "count": 4, "backend": backend})
            job = await wait_job(client, made.json()["id"])
            assert job["status"] == "completed", job["error"]
            after = (await client.get("/metrics")).text
    waits = "sentiforge_llm_rate_limit_waits_total"
    seconds = "sentiforge_llm_rate_limit_wait_seconds_total"
    assert _metric(after, waits, "limiter") - _metric(before, waits, "limiter") >= 2
    assert _metric(after, seconds, "limiter") - _metric(before, seconds, "limiter") >= 0.5


async def test_samples_of_a_job_the_server_runs_are_all_counted(admin: Any) -> None:
    """Issue 21.12: sentiforge_job_samples_total counts every accepted sample, the first of each
    run included (it missed it), on a fresh job and on a resumed one."""
    from tests.api.conftest import wait_job

    def samples(text: str) -> float:
        found = [line for line in text.splitlines() if line.startswith("sentiforge_job_samples_total ")]
        return float(found[0].rsplit(" ", 1)[1]) if found else 0.0

    before = samples((await admin.get("/metrics")).text)
    made = await admin.post("/v1/jobs/generate", json={"dataset": "counted", "count": 9, "backend": {"kind": "fake"}})
    assert (await wait_job(admin, made.json()["id"]))["done"] == 9
    assert samples((await admin.get("/metrics")).text) - before == 9
