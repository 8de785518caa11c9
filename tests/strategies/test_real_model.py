"""A small real run with the packaged 0.5B model: the whole chain (extraction, candidates,
rewrite, judge) through the engine, and every accepted output re-checked here."""

from __future__ import annotations

import pytest

from sentiforge.app.jobs import run_recipe
from sentiforge.recipe import BackendSpec, Recipe, StepSpec
from sentiforge.samples import Sample, normalize_text
from sentiforge.store import Store
from sentiforge.strategies.aspect_rewrite import without_term
from sentiforge.strategies.output import contains_term

pytestmark = pytest.mark.slow

SEEDS = [
    Sample(text="The pasta was cold and the waiter was rude.", label="negative", split="train"),
    Sample(text="Great pizza and friendly staff, we will be back.", label="positive", split="train"),
]


async def test_cada_and_backtranslation_with_the_embedded_model(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("llama_cpp")
    from sentiforge.labels import get_scheme

    store = Store(f"sqlite:///{tmp_path}/t.db")
    store.add_samples(store.create_dataset("seeds", get_scheme("binary"), kind="real"), SEEDS)
    recipe = Recipe(
        scheme="binary",
        seeds="seeds",
        max_attempts=2,
        backend=BackendSpec(kind="embedded", model="qwen2.5-0.5b", n_ctx=2048),
        steps=[
            StepSpec(strategy="cada", params={"per_seed": 1}),
            StepSpec(strategy="backtranslate", params={"per_seed": 1, "embedder": "fake"}),
        ],
    )
    result = await run_recipe(recipe, store, "out")
    assert result.status in {"completed", "incomplete"} and result.error is None
    assert result.done + result.rejected >= 4  # every slot was tried; nothing crashed
    seeds = {s.id: s for s in store.samples(store.dataset_id("seeds"))}
    samples = store.samples(result.dataset_id, status=None)
    assert all(s.provenance.parent_id in seeds for s in samples)
    assert all(s.reason and s.attributes.get("check") for s in samples if s.status == "rejected")
    for s in samples:
        if s.status == "accepted" and s.provenance.strategy == "cada":
            seed = seeds[s.provenance.parent_id]  # type: ignore[index]
            assert contains_term(s.text, s.attributes["replacement"])
            assert not contains_term(without_term(s.text, s.attributes["replacement"]), s.attributes["aspect"])
            assert normalize_text(s.text) != normalize_text(seed.text) and s.label == seed.label
