"""Aspect extraction: proposals must occur verbatim in the text, else rejected with a reason."""

from __future__ import annotations

import json

import pytest

from sentiforge.labels import Aspect
from sentiforge.samples import Sample
from sentiforge.store import Store
from sentiforge.strategies.extract_aspects import validate_proposals
from sentiforge.strategies.seeded import Rejection
from sentiforge.testing import FakeBackend
from sentiforge.testing.augmenter import ScriptedAugmenter, run_augmentation, seed_dataset

POLARITIES = ("negative", "neutral", "positive")


@pytest.fixture
def store(tmp_path) -> Store:  # type: ignore[no-untyped-def]
    return Store(f"sqlite:///{tmp_path}/t.db")


async def test_annotated_copy_keeps_text_label_split_and_points_at_its_seed(store: Store) -> None:
    seed_dataset(store)
    res, _ = await run_augmentation(store, "extract_aspects")
    assert res.status == "completed" and res.done == 4
    seeds = {s.id: s for s in store.samples(store.dataset_id("seeds"))}
    for out in store.samples(res.dataset_id):
        seed = seeds[out.provenance.parent_id]  # type: ignore[index]
        assert out.text == seed.text and out.label == seed.label and out.split == "train"
        assert out.aspects and all(a.term.lower() in out.text.lower() for a in out.aspects)
        assert out.provenance.strategy == "extract_aspects" and out.provenance.template == "extract_aspects.j2"


async def test_a_term_absent_from_the_text_is_rejected_with_the_reason(store: Store) -> None:
    seed_dataset(store)
    fake = FakeBackend(responder=ScriptedAugmenter(extract_absent_term=True))
    res, _ = await run_augmentation(store, "extract_aspects", backend=fake, max_attempts=1)
    assert res.done == 0 and res.rejected == 4
    rejects = store.samples(res.dataset_id, status="rejected")
    assert all("'unicorn': not in the text verbatim" in (r.reason or "") for r in rejects)
    assert all(r.attributes["check"] == "extraction" and r.provenance.parent_id for r in rejects)


def test_validation_keeps_good_proposals_and_names_every_bad_one() -> None:
    text = "The battery life is great but the screen scratches."
    raw = [
        {"term": "battery life", "polarity": "positive", "category": "battery"},
        {"term": "Battery life", "polarity": "positive"},  # a repeat, case folded
        {"term": "display", "polarity": "negative"},  # not in the text
        {"term": "screen", "polarity": "furious"},  # unknown polarity
        {"term": "", "polarity": "negative"},
    ]
    kept = validate_proposals(raw, text, POLARITIES, 3)
    assert kept == [Aspect(term="battery life", polarity="positive", category="battery")]
    with pytest.raises(Rejection) as info:
        validate_proposals(raw[2:], text, POLARITIES, 3)
    assert "'display': not in the text verbatim" in info.value.reason
    assert "polarity 'furious'" in info.value.reason and "no term" in info.value.reason


def test_pronouns_and_function_words_are_not_aspects() -> None:
    text = "You can't beat that, and this one is cheaper than ça. This place rocks."
    for term in ("that", "this one", "ça"):
        with pytest.raises(Rejection, match=f"'{term}': a pronoun or function word"):
            validate_proposals([{"term": term, "polarity": "positive"}], text, POLARITIES, 3)
    # a noun phrase with a determiner is an aspect ("this place" is what the issue itself names)
    kept = validate_proposals([{"term": "this place", "polarity": "positive"}], text, POLARITIES, 3)
    assert [a.term for a in kept] == ["this place"]
    kept = validate_proposals(
        [{"term": "that", "polarity": "positive"}, {"term": "place", "polarity": "positive"}], text, POLARITIES, 3
    )
    assert [a.term for a in kept] == ["place"]


def test_validation_rejects_non_lists_and_overlong_terms() -> None:
    with pytest.raises(Rejection, match="no aspect list"):
        validate_proposals("battery", "battery", POLARITIES, 3)
    text = "the very long winded name of this cheap product broke"
    with pytest.raises(Rejection, match="longer than"):
        validate_proposals([{"term": "very long winded name of this", "polarity": "negative"}], text, POLARITIES, 3)


async def test_partial_word_matches_do_not_count(store: Store) -> None:
    seed_dataset(store, [Sample(text="The cheesecake was lovely.", label="positive")])
    fake = FakeBackend()
    fake.enqueue([json.dumps({"aspects": [{"term": "cheese", "category": "food", "polarity": "positive"}]})])
    res, _ = await run_augmentation(store, "extract_aspects", backend=fake, max_attempts=1)
    assert res.done == 0
    assert "'cheese': not in the text verbatim" in (store.samples(res.dataset_id, status="rejected")[0].reason or "")


async def test_extraction_is_asked_once_per_seed_across_variants_and_strategies(store: Store) -> None:
    seed_dataset(store)
    scripted = ScriptedAugmenter()
    fake = FakeBackend(responder=scripted)
    await run_augmentation(store, "cda", {"per_seed": 3}, backend=fake, dataset="a")
    await run_augmentation(store, "ada", {"per_seed": 2}, backend=fake, dataset="b")
    assert scripted.calls["extract"] == 4  # later asks are answered by the response cache


async def test_seed_aspects_are_used_as_given_without_extraction(store: Store) -> None:
    seed = Sample(text="The battery died fast.", aspects=[Aspect(term="battery", polarity="negative")])
    seed_dataset(store, [seed], scheme="aspect")
    scripted = ScriptedAugmenter()
    res, _ = await run_augmentation(
        store, "cda", {"per_seed": 2}, backend=FakeBackend(responder=scripted), scheme="aspect"
    )
    assert res.done == 2 and "extract" not in scripted.calls
    assert all(s.aspects and s.aspects[0].term == "battery" for s in store.samples(res.dataset_id))


async def test_seed_aspect_absent_from_its_text_is_a_per_sample_rejection(store: Store) -> None:
    good = Sample(text="The battery died fast.", aspects=[Aspect(term="battery", polarity="negative")])
    bad = Sample(text="The screen is sharp.", aspects=[Aspect(term="keyboard", polarity="positive")])
    seed_dataset(store, [good, bad], scheme="aspect")
    res, _ = await run_augmentation(store, "cda", {"per_seed": 1}, scheme="aspect", max_attempts=1)
    assert res.done == 1 and res.status == "incomplete"
    reject = store.samples(res.dataset_id, status="rejected")[0]
    assert reject.attributes["check"] == "seed" and "'keyboard' does not occur" in (reject.reason or "")


async def test_augmenting_an_annotated_copy_points_through_to_the_real_seed(store: Store) -> None:
    seed_dataset(store)
    await run_augmentation(store, "extract_aspects", dataset="annotated")
    scripted = ScriptedAugmenter()
    res, _ = await run_augmentation(
        store, "cda", {"per_seed": 1}, seeds="annotated", dataset="aug", backend=FakeBackend(responder=scripted)
    )
    assert res.done == 4 and "extract" not in scripted.calls  # the annotation is used as given
    real_ids = {s.id for s in store.samples(store.dataset_id("seeds"))}
    assert {s.provenance.parent_id for s in store.samples(res.dataset_id)} == real_ids
