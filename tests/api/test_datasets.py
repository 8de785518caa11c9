"""Datasets and samples over HTTP: upload (all rows or none, size-limited), browse with
filters, export in every format as a zip, delete."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from tests.api.conftest import SEEDS_CSV

from sentiforge.config import Settings
from sentiforge.store import Store


async def _upload(
    client: httpx.AsyncClient, name: str, content: str | bytes, filename: str = "seeds.csv", **form: Any
) -> httpx.Response:
    return await client.post(f"/v1/datasets/{name}/import", files={"file": (filename, content)}, data=form)


async def test_upload_browse_export_delete(admin: httpx.AsyncClient, store: Store) -> None:
    made = await _upload(admin, "seeds", SEEDS_CSV, splits="0.8,0.2")
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["count"] == 30 and body["by_label"] == {"positive": 10, "negative": 10, "neutral": 10}
    listed = (await admin.get("/v1/datasets")).json()["items"]
    assert [(d["name"], d["kind"], d["counts"]) for d in listed] == [("seeds", "real", {"accepted": 30})]
    page = (await admin.get("/v1/datasets/seeds/samples", params={"label": "negative", "limit": 4})).json()
    assert len(page["items"]) == 4 and {s["label"] for s in page["items"]} == {"negative"}
    more = (
        await admin.get("/v1/datasets/seeds/samples", params={"label": "negative", "cursor": page["next_cursor"]})
    ).json()
    assert len(more["items"]) == 6 and more["next_cursor"] is None
    assert (await admin.get("/v1/datasets/seeds/samples", params={"label": "nope"})).status_code == 422
    split = (await admin.get("/v1/datasets/seeds/samples", params={"split": "train", "limit": 1000})).json()["items"]
    assert len(split) == 24
    for fmt in ("jsonl", "csv", "parquet", "hf"):
        answer = await admin.get("/v1/datasets/seeds/export", params={"format": fmt})
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/zip"
        names = zipfile.ZipFile(io.BytesIO(answer.content)).namelist()
        assert "dataset-1/metadata.json" in names and len(names) >= 3, (fmt, names)  # no entry named by a caller
        assert answer.headers["content-disposition"] == f'attachment; filename="seeds-{fmt}.zip"'
    meta = json.loads(
        zipfile.ZipFile(io.BytesIO((await admin.get("/v1/datasets/seeds/export")).content)).read(
            "dataset-1/metadata.json"
        )
    )
    assert meta["counts"]["total"] == 30 if "total" in meta["counts"] else sum(meta["splits"]["counts"].values()) == 30
    assert (await admin.get("/v1/datasets/seeds/export", params={"format": "xml"})).status_code == 422
    assert (await admin.delete("/v1/datasets/seeds")).status_code == 204
    assert (await admin.get("/v1/datasets/seeds")).status_code == 404


async def test_a_bad_row_imports_nothing(admin: httpx.AsyncClient, store: Store) -> None:
    bad = SEEDS_CSV + "\nthis one is odd,furious\n"
    answer = await _upload(admin, "seeds", bad)
    assert answer.status_code == 422 and "furious" in answer.json()["detail"]
    assert store.list_datasets() == []
    assert (await _upload(admin, "seeds", SEEDS_CSV)).status_code == 201
    again = await _upload(admin, "seeds", bad)  # into an existing dataset: still nothing added
    assert again.status_code == 422 and store.count(store.dataset_id("seeds")) == 30
    mapping = await _upload(admin, "other", SEEDS_CSV, text_col="body")
    assert mapping.status_code == 422 and "body" in mapping.json()["detail"]
    suffix = await _upload(admin, "other", SEEDS_CSV, filename="seeds.xlsx")
    assert suffix.status_code == 422
    assert [d.name for d in store.list_datasets()] == ["seeds"]


async def test_jsonl_upload_with_a_column_mapping(admin: httpx.AsyncClient) -> None:
    rows = "\n".join(
        json.dumps({"body": f"text {i}", "sentiment": lab}) for i, lab in enumerate(["positive", "negative"] * 3)
    )
    answer = await _upload(
        admin, "j", rows, filename="rows.jsonl", text_col="body", label_col="sentiment", scheme="binary"
    )
    assert answer.status_code == 201 and answer.json()["count"] == 6


async def test_oversized_upload_is_413_and_stores_nothing(
    make_client: Callable[..., Any], tokens: dict[str, str], settings: Settings, store: Store
) -> None:
    small = settings.model_copy(update={"max_upload_mb": 0.0005})
    async with make_client(tokens["write"], app_settings=small) as client:
        answer = await _upload(client, "big", SEEDS_CSV * 3)
    assert answer.status_code == 413 and "MB" in answer.json()["detail"]
    assert store.list_datasets() == []


@pytest.mark.parametrize(
    "query", [{"min_score": 0.5}, {"review": "pending"}, {"status": "rejected"}, {"strategy": "generate"}]
)
async def test_sample_filters_on_quality_and_review(
    admin: httpx.AsyncClient, store: Store, query: dict[str, Any]
) -> None:
    from tests.api.conftest import wait_job

    job = (
        await admin.post("/v1/jobs/generate", json={"dataset": "g", "count": 12, "backend": {"kind": "fake"}})
    ).json()
    await wait_job(admin, job["id"])
    gate = {"dataset": "g", "judge": "none", "embedder": "none"}
    quality = (await admin.post("/v1/jobs/quality", json=gate)).json()
    done = await wait_job(admin, quality["id"])
    assert done["status"] == "completed", done["error"]
    page = (await admin.get("/v1/datasets/g/samples", params={**query, "limit": 1000})).json()["items"]
    every = (await admin.get("/v1/datasets/g/samples", params={"status": "any", "limit": 1000})).json()["items"]
    assert all(s["quality_score"] is not None for s in every)
    expected = [
        s["id"]
        for s in every
        if (s["status"] == "accepted" or query.get("status") == "rejected")
        and s["status"] == query.get("status", s["status"])
        and (s["quality_score"] >= query.get("min_score", 0))
        and s["review"] == query.get("review", s["review"])
        and s["provenance"]["strategy"] == query.get("strategy", s["provenance"]["strategy"])
    ]
    assert [s["id"] for s in page] == expected


async def test_overview_counts_and_text_search(admin: httpx.AsyncClient) -> None:
    csv = SEEDS_CSV + "\n100% sure_thing,positive\n100 percent sure,positive\n"
    assert (await _upload(admin, "seeds", csv, splits="0.8,0.2")).status_code == 201
    overview = (await admin.get("/v1/datasets/seeds/overview")).json()
    assert overview["dataset"]["name"] == "seeds" and overview["by_status"] == {"accepted": 32}
    assert overview["by_label"] == {"negative": 10, "neutral": 10, "positive": 12}
    assert sum(overview["by_split"].values()) == 32 and set(overview["by_split"]) == {"train", "test"}
    assert overview["by_strategy"] == {"none": 32} and overview["by_language"] == {"en": 32}
    assert (await admin.get("/v1/datasets/nope/overview")).status_code == 404

    async def search(text: str, **more: str) -> list[str]:
        found = await admin.get("/v1/datasets/seeds/samples", params={"text": text, **more})
        return sorted(s["text"] for s in found.json()["items"])

    assert await search("RUDE AGENT") == ["rude agent number 0", "rude agent number 1"]
    assert await search("0% sure_") == ["100% sure_thing"]  # % and _ are literal, not wildcards
    assert await search("rude", label="positive") == []
    assert len(await search("", label="")) == 32  # blank fields filter nothing
