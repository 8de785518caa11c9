"""CADA: a new aspect term *and* a paraphrased context, with both sets of checks."""

from __future__ import annotations

import pytest

from sentiforge.backends import ChatRequest
from sentiforge.samples import normalize_text
from sentiforge.store import Store
from sentiforge.testing import FakeBackend
from sentiforge.testing.augmenter import ScriptedAugmenter, run_augmentation, seed_dataset


@pytest.fixture
def store(tmp_path) -> Store:  # type: ignore[no-untyped-def]
    return Store(f"sqlite:///{tmp_path}/t.db")


async def test_new_term_and_new_context(store: Store) -> None:
    seed_dataset(store)
    res, _ = await run_augmentation(store, "cada", {"per_seed": 2})
    assert res.status == "completed" and res.done == 8
    seeds = {s.id: s for s in store.samples(store.dataset_id("seeds"))}
    for out in store.samples(res.dataset_id):
        seed = seeds[out.provenance.parent_id]  # type: ignore[index]
        original, new = out.attributes["aspect"], out.attributes["replacement"]
        assert new in out.text and original not in out.text
        assert normalize_text(out.text) != normalize_text(seed.text.replace(original, new))
        assert out.provenance.strategy == "cada" and out.label == seed.label


async def test_substitution_alone_is_rejected_as_unchanged_context(store: Store) -> None:
    seed_dataset(store)
    scripted = ScriptedAugmenter()

    def substitute_only(request: ChatRequest) -> str:
        prompt = request.messages[-1].content
        if "Write a new version" in prompt:  # answer as ADA would: no paraphrase
            as_ada = request.messages[-1].model_copy(update={"content": prompt.replace("Write a new", "replace the")})
            request = request.model_copy(update={"messages": (*request.messages[:-1], as_ada)})
        return scripted(request)

    res, _ = await run_augmentation(
        store, "cada", {"per_seed": 1}, backend=FakeBackend(responder=substitute_only), max_attempts=1
    )
    assert res.done == 0
    reasons = {r.reason for r in store.samples(res.dataset_id, status="rejected")}
    assert reasons == {"unchanged: only the aspect was replaced; the context was not paraphrased"}


@pytest.mark.parametrize(
    ("flag", "check"),
    [("keep_original", "term"), ("drop_term", "term"), ("flip_polarity", "polarity"), ("echo", "unchanged")],
)
async def test_every_check_applies(store: Store, flag: str, check: str) -> None:
    seed_dataset(store)
    scripted = ScriptedAugmenter()
    setattr(scripted, flag, True)
    fake = FakeBackend(responder=scripted)
    res, _ = await run_augmentation(store, "cada", {"per_seed": 1}, backend=fake, max_attempts=1)
    assert res.done == 0 and res.rejected == 4
    assert {r.attributes["check"] for r in store.samples(res.dataset_id, status="rejected")} == {check}


async def test_ada_and_cada_share_one_candidate_list_per_seed(store: Store) -> None:
    seed_dataset(store)
    scripted = ScriptedAugmenter()
    fake = FakeBackend(responder=scripted)
    await run_augmentation(store, "ada", {"per_seed": 2}, backend=fake, dataset="a")
    await run_augmentation(store, "cada", {"per_seed": 2}, backend=fake, dataset="b")
    assert scripted.calls["candidates"] == 4
