"""Style matching on real tweets: lengths drawn from the seeds' own and checked, habits asked
for as often as the real texts show them."""

import json
import re

import pytest

from sentiforge.app.jobs import run_recipe
from sentiforge.backends import ChatRequest
from sentiforge.evaluation.similarity import ks_distance
from sentiforge.io.datasets import load_builtin
from sentiforge.recipe import BackendSpec, Recipe, StepSpec
from sentiforge.samples import Sample
from sentiforge.store import Store
from sentiforge.strategies.style import StyleProfile, length_bounds, length_problem, word_count
from sentiforge.testing import FakeBackend

ASKED = re.compile(r"Write one (\d+)-word")


@pytest.fixture(scope="module")
def tweets() -> list[Sample]:
    return load_builtin("vader:tweets")[:600]


def seeded_store(tmp_path, tweets: list[Sample]) -> Store:  # type: ignore[no-untyped-def]
    store = Store(f"sqlite:///{tmp_path}/t.db")
    seeds = store.create_dataset("seeds", Recipe().label_scheme(), kind="real")
    store.add_samples(seeds, [s.model_copy(update={"split": "train"}) for s in tweets])
    return store


def obedient(request: ChatRequest) -> str:
    """Writes exactly the number of words asked for, all different (no copy of any seed)."""
    match = ASKED.search(request.messages[-1].content)
    n = int(match.group(1)) if match else 20
    return json.dumps({"text": " ".join(f"w{request.seed}x{i}" for i in range(n))})


def recipe(count: int) -> Recipe:
    params = {"count": count, "match_style": True, "few_shot": 0}
    return Recipe(backend=BackendSpec(kind="fake"), seeds="seeds", steps=[StepSpec(params=params)])


async def test_lengths_follow_the_seeds_distribution(tmp_path, tweets) -> None:  # type: ignore[no-untyped-def]
    store = seeded_store(tmp_path, tweets)
    fake = FakeBackend(responder=obedient)
    res = await run_recipe(recipe(150), store, "d", backend=fake)
    assert res.done == 150 and res.rejected == 0
    made = [word_count(s.text) for s in store.samples(res.dataset_id)]
    assert ks_distance(made, [word_count(t.text) for t in tweets]) < 0.15
    prompts = [r.messages[-1].content for r in fake.history]
    profile = StyleProfile.measure([t.text for t in tweets])
    share = sum("@handle" in p for p in prompts) / len(prompts)
    assert profile.habits["mention"] > 0.1 and abs(share - profile.habits["mention"]) < 0.1


async def test_texts_off_their_target_length_are_rejected(tmp_path, tweets) -> None:  # type: ignore[no-untyped-def]
    store = seeded_store(tmp_path, tweets)
    rambling = json.dumps({"text": " ".join(f"word{i}" for i in range(120))})
    fake = FakeBackend()
    fake.enqueue([rambling])
    fake.responder = obedient
    res = await run_recipe(recipe(1), store, "d", backend=fake)
    reasons = store.count(res.dataset_id, status="rejected", by="reason")
    assert res.done == 1 and len(reasons) == 1 and next(iter(reasons)).startswith("length off target: 120 words")


def test_profile_of_real_tweets_and_length_tolerance(tweets) -> None:  # type: ignore[no-untyped-def]
    profile = StyleProfile.measure([t.text for t in tweets])
    assert len(profile.lengths) == len(tweets) and {"mention", "hashtag"} & set(profile.habits)
    assert StyleProfile.measure([]).lengths == ()
    assert ks_distance([1, 2, 3], [3, 2, 1]) == 0.0 and ks_distance([1], [5]) == 1.0
    assert length_bounds(10) == (2, 18)
    assert length_problem("one two three", 4) is None and length_problem("a " * 30, 4)


def test_a_matched_style_needs_seeds(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from sentiforge.app.jobs import create_job
    from sentiforge.errors import ConfigError

    r = recipe(2)
    r.seeds = None
    with pytest.raises(ConfigError, match="match_style needs real seeds"):
        create_job(Store(f"sqlite:///{tmp_path}/t.db"), r, "d")


async def test_over_used_words_are_discouraged_in_the_prompt(tmp_path) -> None:  # type: ignore[no-untyped-def]
    fake = FakeBackend()
    params = {"count": 2, "avoid_words": ["absolutely", "thrilled"]}
    r = Recipe(backend=BackendSpec(kind="fake"), steps=[StepSpec(params=params)])
    await run_recipe(r, Store(f"sqlite:///{tmp_path}/t.db"), "d", backend=fake)
    assert all("over-used words: absolutely, thrilled." in q.messages[-1].content for q in fake.history)
