"""Input drift in serving: a model trained on tweets keeps a reference of them; a window of
held-out tweets raises nothing, a window of UCI Yelp sentences raises the embedding shift
past its limit, in GET /v1/models/{id}/drift and in /metrics. A model saved without a
reference says so, and is still served. Embeddings from the fake embedder at the seam."""

from __future__ import annotations

import csv
import io
import random
import re
from collections.abc import Callable
from typing import Any

import httpx
from tests.api.conftest import wait_job

from sentiforge.config import Settings
from sentiforge.io.datasets import load_uci, load_vader

TWEETS = load_vader("tweets", "three_class")
random.Random(0).shuffle(TWEETS)
HELD = [s.text for s in TWEETS[2000:2300]]
YELP = [s.text for s in load_uci("yelp")[:300]]


def _csv(samples: list[Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["text", "label"])
    writer.writerows([s.text, s.label] for s in samples)
    return out.getvalue()


async def _serve(client: httpx.AsyncClient, texts: list[str], model: str) -> None:
    for i in range(0, len(texts), 50):
        answer = await client.post("/v1/sentiment", json={"texts": texts[i : i + 50], "model": model})
        assert answer.status_code == 200, answer.text


def _gauges(text: str, model: str) -> dict[str, float]:
    found = {}
    for name, labels, value in re.findall(r"^(sentiforge_input_drift\w*)\{([^}]*)\} (\S+)$", text, re.M):
        if f'model="{model}"' in labels:
            measure = re.search(r'measure="(\w+)"', labels)
            found[name + (f":{measure.group(1)}" if measure else "")] = float(value)
    return found


async def test_off_domain_texts_raise_input_drift_and_in_domain_ones_do_not(
    make_client: Callable[..., Any], tokens: dict[str, str], settings: Settings
) -> None:
    watched = settings.model_copy(update={"drift_embedder": "fake", "drift_window": 300})
    async with make_client(tokens["admin"], app_settings=watched) as client:
        await client.post("/v1/datasets/tweets/import", files={"file": ("t.csv", _csv(TWEETS[:1500]))})
        job = (await client.post("/v1/jobs/train", json={"dataset": "tweets", "out_dir": "tw"})).json()
        assert (await wait_job(client, job["id"]))["status"] == "completed"
        fresh = (await client.get("/v1/models/tw/drift")).json()
        assert fresh["reference"] is True and fresh["window"] == 0 and fresh["flagged"] == []
        await _serve(client, HELD, "tw")
        same = (await client.get("/v1/models/tw/drift")).json()
        assert same["window"] == 300 and same["embedder"] == "fake" and same["flagged"] == [], same
        assert same["label_source"] == "held-out predictions"
        gauges = _gauges((await client.get("/metrics")).text, "tw")
        assert gauges["sentiforge_input_drift_flagged"] == 0 and gauges["sentiforge_input_drift_window"] == 300
        assert gauges["sentiforge_input_drift:embedding"] < gauges["sentiforge_input_drift_limit:embedding"]
        await _serve(client, YELP, "tw")  # restaurant reviews, not tweets: the window is all Yelp now
        moved = (await client.get("/v1/models/tw/drift")).json()
        assert "embedding" in moved["flagged"], moved
        assert moved["shift"]["embedding"] > 3 * same["shift"]["embedding"]
        gauges = _gauges((await client.get("/metrics")).text, "tw")
        assert gauges["sentiforge_input_drift_flagged"] >= 1
        assert gauges["sentiforge_input_drift:embedding"] > gauges["sentiforge_input_drift_limit:embedding"]


async def test_a_model_saved_without_a_reference_says_so(
    make_client: Callable[..., Any], tokens: dict[str, str], settings: Settings
) -> None:
    async with make_client(tokens["admin"]) as client:
        await client.post("/v1/datasets/tweets/import", files={"file": ("t.csv", _csv(TWEETS[:300]))})
        job = (
            await client.post("/v1/jobs/train", json={"dataset": "tweets", "out_dir": "old", "evaluate": False})
        ).json()
        assert (await wait_job(client, job["id"]))["status"] == "completed"
        reference = settings.classifiers_dir / "old" / "drift_reference.json"
        assert reference.is_file()
        reference.unlink()  # as a model saved before references were written
        await _serve(client, HELD[:50], "old")  # still served
        report = (await client.get("/v1/models/old/drift")).json()
        assert report["reference"] is False and report["detail"].startswith("no reference") and report["flagged"] == []
        assert "sentiforge_input_drift_flagged" not in _gauges((await client.get("/metrics")).text, "old")
        assert (await client.get("/v1/models/nope/drift")).status_code == 404
