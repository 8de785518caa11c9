"""Reasoning traces: a short rationale for the label, asked for, checked, stored and exported."""

from __future__ import annotations

import json

import pytest

from sentiforge.store import Store
from sentiforge.testing import FakeBackend
from sentiforge.testing.augmenter import ScriptedAugmenter, run_augmentation, seed_dataset


@pytest.fixture
def store(tmp_path) -> Store:  # type: ignore[no-untyped-def]
    return Store(f"sqlite:///{tmp_path}/t.db")


@pytest.mark.parametrize("strategy", ["cda", "ada", "cada"])
async def test_rationale_is_requested_and_stored(store: Store, strategy: str) -> None:
    seed_dataset(store)
    res, fake = await run_augmentation(store, strategy, {"per_seed": 1, "rationale": True})
    assert res.done == 4
    assert all(s.rationale == "Because the writer says so plainly." for s in store.samples(res.dataset_id))
    rewrites = [r for r in fake.history if r.json_schema and "text" in r.json_schema.get("properties", {})]
    assert rewrites and all("rationale" in r.json_schema["required"] for r in rewrites)  # type: ignore[index]
    assert all('"rationale"' in r.messages[-1].content for r in rewrites)


async def test_no_rationale_unless_asked(store: Store) -> None:
    seed_dataset(store)
    res, fake = await run_augmentation(store, "cda", {"per_seed": 1})
    assert all(s.rationale is None for s in store.samples(res.dataset_id))
    assert not any("rationale" in (r.json_schema or {}).get("properties", {}) for r in fake.history)


async def test_a_missing_rationale_is_rejected(store: Store) -> None:
    seed_dataset(store)
    scripted = ScriptedAugmenter(rationale="  ")
    res, _ = await run_augmentation(
        store, "cda", {"per_seed": 1, "rationale": True}, max_attempts=1, backend=FakeBackend(responder=scripted)
    )
    assert res.done == 0
    assert {r.reason for r in store.samples(res.dataset_id, status="rejected")} == {
        "rationale: rationale missing or empty"
    }


async def test_rationales_are_exported(store: Store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from sentiforge.io.exporters import export_dataset

    seed_dataset(store)
    await run_augmentation(store, "cada", {"per_seed": 1, "rationale": True})
    result = export_dataset(store, "out", tmp_path / "export", format="jsonl")
    lines = [line for f in result.files.values() for line in (result.out / f).read_text("utf-8").splitlines()]
    rows = [json.loads(line) for line in lines]
    assert rows and all(row["rationale"] == "Because the writer says so plainly." for row in rows)


def test_rationale_option_is_validated() -> None:
    from sentiforge.errors import ConfigError
    from sentiforge.strategies.base import build_strategy

    with pytest.raises(ConfigError, match="invalid options for strategy 'cda'"):
        build_strategy("cda", {"rationale": "sometimes", "per_seed": 0})
