"""Copies of seeds are rejected, at generation and in the gate, on real tweets with planted copies."""

import json
from collections import Counter

import pytest

from sentiforge.app.jobs import run_recipe
from sentiforge.backends import ChatRequest
from sentiforge.io.datasets import load_builtin
from sentiforge.quality.copies import REASON_EXAMPLE, REASON_SEED, SeedCopyCheck, copy_of_examples
from sentiforge.recipe import BackendSpec, Recipe, StepSpec
from sentiforge.samples import Sample
from sentiforge.store import Store
from sentiforge.testing import FakeBackend


@pytest.fixture(scope="module")
def tweets() -> list[Sample]:
    return [s for s in load_builtin("vader:tweets") if len(s.text.split()) >= 6][:300]


def shown_examples(request: ChatRequest, pool: list[str]) -> list[str]:
    prompt = request.messages[-1].content
    return [t for t in pool if t in prompt]


def store_with_seeds(tmp_path, tweets: list[Sample]) -> Store:  # type: ignore[no-untyped-def]
    store = Store(f"sqlite:///{tmp_path}/t.db")
    seeds = store.create_dataset("seeds", Recipe().label_scheme(), kind="real")
    store.add_samples(seeds, [s.model_copy(update={"split": "train"}) for s in tweets])
    return store


async def test_planted_copy_of_a_few_shot_example_is_rejected_and_retried(tmp_path, tweets) -> None:  # type: ignore[no-untyped-def]
    store = store_with_seeds(tmp_path, tweets)
    pool = [s.text for s in tweets]
    fresh = iter(f"a brand new sentence about item {i} that nobody wrote before" for i in range(100))

    def responder(request: ChatRequest) -> str:
        examples = shown_examples(request, pool)
        # every other answer copies one of the prompt's own examples, its last word changed
        if examples and len(fake.history) % 2 == 1:
            words = examples[0].split()
            words[-1] = "indeed"
            return json.dumps({"text": " ".join(words)})
        return json.dumps({"text": next(fresh)})

    fake = FakeBackend(responder=responder)
    r = Recipe(backend=BackendSpec(kind="fake"), seeds="seeds", steps=[StepSpec(params={"count": 6, "few_shot": 2})])
    res = await run_recipe(r, store, "d", backend=fake)
    assert res.status == "completed" and res.done == 6
    reasons = store.count(res.dataset_id, status="rejected", by="reason")
    assert reasons == {REASON_EXAMPLE: 6}
    assert all(s.text.startswith("a brand new sentence") for s in store.samples(res.dataset_id))


async def test_copy_of_a_seed_not_shown_is_rejected_too(tmp_path, tweets) -> None:  # type: ignore[no-untyped-def]
    store = store_with_seeds(tmp_path, tweets)
    fake = FakeBackend()
    fake.enqueue([json.dumps({"text": tweets[-1].text.upper()}), json.dumps({"text": "nothing like any tweet at all"})])
    r = Recipe(backend=BackendSpec(kind="fake"), seeds="seeds", steps=[StepSpec(params={"count": 1, "few_shot": 0})])
    res = await run_recipe(r, store, "d", backend=fake)
    assert store.count(res.dataset_id, status="rejected", by="reason") == {REASON_SEED: 1}


async def test_copies_are_kept_when_asked(tmp_path, tweets) -> None:  # type: ignore[no-untyped-def]
    store = store_with_seeds(tmp_path, tweets)
    fake = FakeBackend()
    fake.enqueue([json.dumps({"text": tweets[0].text})])
    r = Recipe(
        backend=BackendSpec(kind="fake"),
        seeds="seeds",
        steps=[StepSpec(params={"count": 1, "reject_seed_copies": False})],
    )
    res = await run_recipe(r, store, "d", backend=fake)
    assert res.rejected == 0


def test_gate_check_finds_planted_copies_among_real_unseen_tweets(tweets) -> None:  # type: ignore[no-untyped-def]
    seeds, others = tweets[:200], tweets[200:]
    planted = [seeds[i].model_copy(update={"text": seeds[i].text + " lol"}) for i in range(0, 200, 20)]
    planted += [seeds[5], seeds[7].model_copy(update={"text": seeds[7].text.lower()})]
    check = SeedCopyCheck(seeds)
    verdicts = [r.verdict for r in check.run(planted + others)]
    assert verdicts[: len(planted)] == ["reject"] * len(planted)
    assert Counter(verdicts[len(planted) :])["reject"] == 0  # unseen real tweets are no copies
    assert "seed #5, exact" in check.run([seeds[5]])[0].reason  # type: ignore[operator]


def test_copy_of_examples_measures_character_overlap() -> None:
    examples = ["The battery died after two days, awful.", "Great service, friendly staff!"]
    assert copy_of_examples("great service friendly staff", examples) == (1, 1.0)
    hit = copy_of_examples("The battery died after two days, just awful.", examples)
    assert hit is not None and hit[0] == 0 and 0.5 <= hit[1] < 1
    assert copy_of_examples("My order never arrived and nobody answers.", examples) is None
