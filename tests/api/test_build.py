"""POST /v1/jobs/build: a build as a job, its progress as any job's, its model served by name."""

from __future__ import annotations

import random
from typing import Any

from tests.api.conftest import wait_job

from sentiforge.io.datasets import load_builtin
from sentiforge.labels import get_scheme


async def test_the_api_builds_as_a_job_and_serves_the_model(make_client: Any, tokens: dict[str, str]) -> None:
    seeds = load_builtin("vader:tweets", get_scheme("three_class"))
    random.Random(2).shuffle(seeds)
    seeds = seeds[:150]
    body = "text,label\n" + "\n".join(f'"{s.text.replace(chr(34), "")}",{s.label}' for s in seeds)
    async with make_client(tokens["admin"]) as client:
        await client.post("/v1/datasets/seeds/import", files={"file": ("s.csv", body)})
        made = await client.post(
            "/v1/jobs/build", json={"seeds": "seeds", "out_dir": "built", "classifiers": ["fake"], "folds": 3}
        )
        assert made.status_code == 202, made.text
        job = await wait_job(client, made.json()["id"])
        assert job["status"] == "completed", job["error"]
        assert job["kind"] == "build" and job["result"]["winner"]["candidate"] == "fake+seeds"
        progress = (await client.get(f"/v1/jobs/{job['id']}/progress")).json()
        assert progress["percent"] == 100.0
        stages = [e for e in (await client.get(f"/v1/jobs/{job['id']}/events")).json() if e["kind"] == "stage"]
        assert stages and all("eta_s" in e["data"] and e["data"]["total"] > 0 for e in stages)
        assert any(isinstance(e["data"]["eta_s"], int) for e in stages)  # the ETA once some work is done
        answer = (await client.post("/v1/sentiment", json={"texts": ["I loved it"], "model": "built"})).json()
        assert len(answer["predictions"]) == 1
        page = await client.get("/v1/models/built/build.html")
        assert page.status_code == 200 and "<svg" in page.text and "fake+seeds" in page.text
        assert (await client.get("/v1/models/nope/build.html")).status_code == 404
        refused = await client.post("/v1/jobs/build", json={"seeds": "nope", "out_dir": "x"})
        assert refused.status_code == 404
