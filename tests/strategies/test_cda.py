"""CDA: a paraphrased context, the aspect term verbatim, the polarity unchanged, per seed."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from sentiforge.app.jobs import create_job, resume_job
from sentiforge.backends import ChatRequest
from sentiforge.engine import Engine
from sentiforge.errors import PermanentBackendError
from sentiforge.recipe import BackendSpec, Recipe, StepSpec
from sentiforge.samples import Sample
from sentiforge.store import Store
from sentiforge.testing import FakeBackend
from sentiforge.testing.augmenter import ScriptedAugmenter, run_augmentation, seed_dataset


@pytest.fixture
def store(tmp_path) -> Store:  # type: ignore[no-untyped-def]
    return Store(f"sqlite:///{tmp_path}/t.db")


async def test_per_seed_variants_keep_term_label_and_point_at_their_seed(store: Store) -> None:
    seed_dataset(store)
    res, _ = await run_augmentation(store, "cda", {"per_seed": 3})
    assert res.status == "completed" and res.target == 12 and res.done == 12
    seeds = {s.id: s for s in store.samples(store.dataset_id("seeds"))}
    outputs = store.samples(res.dataset_id)
    assert Counter(s.provenance.parent_id for s in outputs) == {i: 3 for i in seeds}
    for out in outputs:
        seed = seeds[out.provenance.parent_id]  # type: ignore[index]
        assert out.label == seed.label and out.text != seed.text
        assert out.attributes["aspect"].lower() in out.text.lower()
        assert out.attributes["judge_seed"] == out.attributes["judge_output"]
        assert out.provenance.strategy == "cda" and out.provenance.template == "cda.j2"


async def test_lost_term_is_rejected_and_kept_with_its_reason(store: Store) -> None:
    seed_dataset(store)
    res, _ = await run_augmentation(
        store, "cda", {"per_seed": 1}, backend=FakeBackend(responder=ScriptedAugmenter(drop_term=True)), max_attempts=2
    )
    assert res.done == 0 and res.rejected == 8
    rejects = store.samples(res.dataset_id, status="rejected")
    assert {r.attributes["check"] for r in rejects} == {"term"}
    assert all("is not in the output verbatim" in (r.reason or "") and r.provenance.parent_id for r in rejects)


async def test_flipped_polarity_is_rejected_by_the_judge(store: Store) -> None:
    seed_dataset(store)
    res, _ = await run_augmentation(
        store,
        "cda",
        {"per_seed": 1},
        backend=FakeBackend(responder=ScriptedAugmenter(flip_polarity=True)),
        max_attempts=1,
    )
    assert res.done == 0
    rejects = store.samples(res.dataset_id, status="rejected")
    assert {r.attributes["check"] for r in rejects} == {"polarity"}
    assert "the judge reads the seed as" in (rejects[0].reason or "")


async def test_without_the_judge_a_flip_goes_through(store: Store) -> None:
    seed_dataset(store)
    scripted = ScriptedAugmenter(flip_polarity=True)
    res, _ = await run_augmentation(
        store, "cda", {"per_seed": 1, "check_polarity": "off"}, backend=FakeBackend(responder=scripted)
    )
    assert res.done == 4 and "judge" not in scripted.calls


async def test_an_echo_of_the_seed_is_rejected_as_unchanged(store: Store) -> None:
    seed_dataset(store)
    res, _ = await run_augmentation(
        store, "cda", {"per_seed": 1}, backend=FakeBackend(responder=ScriptedAugmenter(echo=True)), max_attempts=1
    )
    assert res.done == 0
    assert {r.attributes["check"] for r in store.samples(res.dataset_id, status="rejected")} == {"unchanged"}


async def test_garbage_answers_are_rejections_not_crashes(store: Store) -> None:
    seed_dataset(store, [Sample(text="The pizza was not good at all.", label="negative")])
    scripted = ScriptedAugmenter()

    def responder(request: ChatRequest) -> str:
        if "Paraphrase" in request.messages[-1].content:
            return "Sure! Here is a paraphrase without JSON."
        return scripted(request)

    res, _ = await run_augmentation(
        store, "cda", {"per_seed": 1}, backend=FakeBackend(responder=responder), max_attempts=2
    )
    assert res.done == 0 and res.rejected == 2 and res.status == "incomplete"
    reject = store.samples(res.dataset_id, status="rejected")[0]
    assert reject.attributes["check"] == "format" and "not a JSON object" in (reject.reason or "")


async def test_bad_seeds_are_rejected_one_by_one_and_the_rest_is_augmented(store: Store) -> None:
    seed_dataset(
        store,
        [
            Sample(text="The pizza was not good at all.", label="negative"),
            Sample(text="   ", label="positive"),
            Sample(text="Loved the friendly waiter here.", label="ecstatic"),
            Sample(text="Le serveur était très gentil.", label="positive", language="fr"),
        ],
    )
    res, _ = await run_augmentation(store, "cda", {"per_seed": 1}, max_attempts=1)
    assert res.done == 1 and res.status == "incomplete"
    reasons = sorted(r.reason or "" for r in store.samples(res.dataset_id, status="rejected"))
    assert any("empty text" in r for r in reasons)
    assert any("unknown label 'ecstatic'" in r for r in reasons)
    assert any("is in 'fr' but the recipe writes 'en'" in r and "translate" in r for r in reasons)


async def test_holdout_seeds_are_never_augmented(store: Store) -> None:
    seed_dataset(
        store,
        [
            Sample(text="The pizza was not good at all.", label="negative", split="train"),
            Sample(text="The HOLDOUT soup was awful.", label="negative", split="holdout"),
        ],
    )
    res, fake = await run_augmentation(store, "cda", {"per_seed": 2})
    assert res.target == 2
    assert not any("HOLDOUT" in r.messages[-1].content for r in fake.history)


async def test_a_killed_job_resumes_to_the_same_outputs(store: Store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    recipe = Recipe(
        scheme="binary",
        seeds="seeds",
        backend=BackendSpec(kind="fake"),
        steps=[StepSpec(strategy="cda", params={"per_seed": 2})],
    )
    seed_dataset(store)
    scripted = ScriptedAugmenter()
    calls = {"n": 0}

    def dying(request: ChatRequest) -> str:
        calls["n"] += 1
        if calls["n"] > 9:
            raise PermanentBackendError("the server went away")
        return scripted(request)

    job = create_job(store, recipe, "out")
    stopped = await Engine(store, FakeBackend(responder=dying, max_concurrency=1)).run(job)
    assert stopped.status == "failed" and "went away" in (stopped.error or "")
    partial = store.count(store.dataset_id("out"))
    assert 0 < partial < 8
    result = await resume_job(store, job, backend=FakeBackend(responder=ScriptedAugmenter()))
    assert result.status == "completed" and result.done == 8

    clean = Store(f"sqlite:///{tmp_path}/clean.db")
    seed_dataset(clean)
    res, _ = await run_augmentation(clean, "cda", {"per_seed": 2})
    resumed = sorted(s.text for s in store.samples(store.dataset_id("out")))
    assert resumed == sorted(s.text for s in clean.samples(res.dataset_id))


async def test_variant_v_asks_the_same_question_whatever_per_seed_is(store: Store) -> None:
    seed_dataset(store)
    small, fake1 = await run_augmentation(store, "cda", {"per_seed": 1}, dataset="one")
    _, fake2 = await run_augmentation(store, "cda", {"per_seed": 2}, dataset="two")
    first = {json.dumps(r.model_dump(mode="json"), sort_keys=True) for r in fake1.history}
    assert not any(json.dumps(r.model_dump(mode="json"), sort_keys=True) in first for r in fake2.history)
    texts_one = {s.text for s in store.samples(small.dataset_id)}
    texts_two = {s.text for s in store.samples(store.dataset_id("two"))}
    assert texts_one <= texts_two  # variant 0 came from the cache, the second variant is new
