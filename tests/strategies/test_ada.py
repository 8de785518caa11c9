"""ADA: a different aspect term of the same kind, context and polarity kept, no repeats per seed."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

from sentiforge.app.jobs import create_job, resume_job
from sentiforge.backends import ChatRequest
from sentiforge.engine import Engine
from sentiforge.errors import PermanentBackendError
from sentiforge.recipe import BackendSpec, Recipe, StepSpec
from sentiforge.samples import Sample
from sentiforge.store import Store
from sentiforge.strategies.aspect_rewrite import clean_candidates
from sentiforge.testing import FakeBackend
from sentiforge.testing.augmenter import ScriptedAugmenter, run_augmentation, seed_dataset


@pytest.fixture
def store(tmp_path) -> Store:  # type: ignore[no-untyped-def]
    return Store(f"sqlite:///{tmp_path}/t.db")


def replacements_by_seed(store: Store, dataset_id: int) -> dict[int, list[str]]:
    out: dict[int, list[str]] = defaultdict(list)
    for s in store.samples(dataset_id):
        out[s.provenance.parent_id].append(s.attributes["replacement"])  # type: ignore[index]
    return dict(out)


async def test_each_variant_gets_a_different_term_that_is_in_the_output(store: Store) -> None:
    seed_dataset(store)
    res, _ = await run_augmentation(store, "ada", {"per_seed": 3})
    assert res.status == "completed" and res.done == 12
    seeds = {s.id: s for s in store.samples(store.dataset_id("seeds"))}
    for terms in replacements_by_seed(store, res.dataset_id).values():
        assert len({t.lower() for t in terms}) == 3
    for out in store.samples(res.dataset_id):
        seed = seeds[out.provenance.parent_id]  # type: ignore[index]
        original, new = out.attributes["aspect"], out.attributes["replacement"]
        assert new.lower() != original.lower() and new in out.text and original not in out.text
        assert original in seed.text and out.label == seed.label


async def test_output_that_keeps_the_original_term_is_rejected(store: Store) -> None:
    seed_dataset(store)
    res, _ = await run_augmentation(
        store,
        "ada",
        {"per_seed": 1},
        backend=FakeBackend(responder=ScriptedAugmenter(keep_original=True)),
        max_attempts=1,
    )
    assert res.done == 0
    reasons = {r.reason for r in store.samples(res.dataset_id, status="rejected")}
    assert all("is still in the output" in (r or "") for r in reasons)


async def test_output_without_the_new_term_is_rejected(store: Store) -> None:
    seed_dataset(store)
    res, _ = await run_augmentation(
        store, "ada", {"per_seed": 1}, backend=FakeBackend(responder=ScriptedAugmenter(drop_term=True)), max_attempts=1
    )
    assert res.done == 0
    assert all(
        "replacement" in (r.reason or "") and "not in the output verbatim" in (r.reason or "")
        for r in store.samples(res.dataset_id, status="rejected")
    )


async def test_a_retry_takes_a_new_unused_term(store: Store) -> None:
    seed_dataset(store, [Sample(text="The pizza was not good at all.", label="negative")])
    scripted = ScriptedAugmenter()
    seen: list[str] = []

    def responder(request: ChatRequest) -> str:
        prompt = request.messages[-1].content
        if "replace the aspect" in prompt:
            seen.append(prompt.split('" with "')[1].split('"')[0])
            if len(seen) == 1:
                return json.dumps({"text": "No JSON text here at all, sorry."})
        return scripted(request)

    res, _ = await run_augmentation(
        store, "ada", {"per_seed": 2}, backend=FakeBackend(responder=responder, max_concurrency=1)
    )
    assert res.done == 2
    assert len(seen) == 3 and len(set(seen)) == 3  # variant 0 failed once; its retry took a third term
    assert sorted(replacements_by_seed(store, res.dataset_id).popitem()[1]) == sorted(seen[1:])


async def test_too_few_candidates_is_a_clear_rejection(store: Store) -> None:
    seed_dataset(store, [Sample(text="The pizza was not good at all.", label="negative")])
    scripted = ScriptedAugmenter(candidates=("pasta", "pizza", "PASTA"))  # one usable term
    res, _ = await run_augmentation(
        store, "ada", {"per_seed": 2}, backend=FakeBackend(responder=scripted), max_attempts=1
    )
    assert res.done == 1
    reject = store.samples(res.dataset_id, status="rejected")[0]
    assert reject.attributes["check"] == "replacement"
    assert "no unused replacement left for 'pizza'" in (reject.reason or "")


def test_candidates_are_cleaned() -> None:
    raw = ["another burger", "Pizza", "pizzas", "The Soup", "soup", "a very long four word name", 7, "", "bread"]
    assert clean_candidates(raw, "pizza", "The pizza was cold, bread too.") == ["burger", "Soup"]


async def test_replacements_survive_a_resume_unchanged(store: Store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    recipe = Recipe(
        scheme="binary",
        seeds="seeds",
        backend=BackendSpec(kind="fake"),
        steps=[StepSpec(strategy="ada", params={"per_seed": 3})],
    )
    seed_dataset(store)
    scripted = ScriptedAugmenter()
    calls = {"n": 0}

    def dying(request: ChatRequest) -> str:
        calls["n"] += 1
        if calls["n"] > 14:
            raise PermanentBackendError("killed")
        return scripted(request)

    job = create_job(store, recipe, "out")
    assert (await Engine(store, FakeBackend(responder=dying, max_concurrency=1)).run(job)).status == "failed"
    assert 0 < store.count(store.dataset_id("out")) < 12
    await resume_job(store, job, backend=FakeBackend(responder=ScriptedAugmenter()))

    clean = Store(f"sqlite:///{tmp_path}/clean.db")
    seed_dataset(clean)
    res, _ = await run_augmentation(clean, "ada", {"per_seed": 3})
    resumed = replacements_by_seed(store, store.dataset_id("out"))
    assert {k: sorted(v) for k, v in resumed.items()} == {
        k: sorted(v) for k, v in replacements_by_seed(clean, res.dataset_id).items()
    }
    assert all(len(set(v)) == 3 for v in resumed.values())
