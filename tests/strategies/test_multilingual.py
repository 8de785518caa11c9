"""French end to end (translate seeds, augment and generate in French) and any named language."""

from __future__ import annotations

import json

import pytest

from sentiforge.app.jobs import run_recipe
from sentiforge.backends import ChatRequest
from sentiforge.prompts import PromptLibrary
from sentiforge.recipe import BackendSpec, Recipe, StepSpec
from sentiforge.samples import Sample
from sentiforge.store import Store
from sentiforge.strategies.seeded import language_name
from sentiforge.testing import FakeBackend
from sentiforge.testing.augmenter import run_augmentation, seed_dataset

FR_SEEDS = [
    Sample(text="La pizza était vraiment mauvaise.", label="negative", language="fr"),
    Sample(text="Le serveur était adorable et rapide.", label="positive", language="fr"),
]


@pytest.fixture
def store(tmp_path) -> Store:  # type: ignore[no-untyped-def]
    return Store(f"sqlite:///{tmp_path}/t.db")


@pytest.mark.parametrize(
    "template",
    [
        "extract_aspects.j2",
        "cda.j2",
        "ada.j2",
        "cada.j2",
        "ada_candidates.j2",
        "polarity_check.j2",
        "system.j2",
        "generate.j2",
    ],
)
def test_french_templates_exist_for_every_augmentation_prompt(template: str) -> None:
    assert PromptLibrary().resolve(template, "fr") == f"fr/{template}"


async def test_translated_seeds_become_french_seeds(store: Store) -> None:
    seed_dataset(store)
    res, fake = await run_augmentation(store, "translate", {"target": "fr"}, dataset="seeds-fr")
    assert res.status == "completed" and res.done == 4
    english = {s.id: s for s in store.samples(store.dataset_id("seeds"))}
    for out in store.samples(res.dataset_id):
        src = english[out.provenance.parent_id]  # type: ignore[index]
        assert out.language == "fr" and out.split == "train" and out.label == src.label
        assert out.attributes["source_text"] == src.text
    assert all("into French" in r.messages[-1].content for r in fake.history)


async def test_french_augmentation_uses_french_prompts_end_to_end(store: Store) -> None:
    seed_dataset(store, FR_SEEDS)
    res, fake = await run_augmentation(store, "cada", {"per_seed": 2}, language="fr")
    assert res.status == "completed" and res.done == 4
    outputs = store.samples(res.dataset_id)
    assert {s.provenance.template for s in outputs} == {"fr/cada.j2"} and {s.language for s in outputs} == {"fr"}
    prompts = [r.messages[-1].content for r in fake.history]
    assert any(p.startswith("Trouve les aspects") for p in prompts)
    assert any(p.startswith("Écris une nouvelle version") for p in prompts)
    assert all("français" in r.messages[0].content for r in fake.history)


async def test_english_seeds_in_a_french_recipe_are_rejected_with_the_fix(store: Store) -> None:
    seed_dataset(store)
    res, fake = await run_augmentation(store, "cda", {"per_seed": 1}, language="fr", max_attempts=1)
    assert res.done == 0 and not fake.history
    reason = store.samples(res.dataset_id, status="rejected")[0].reason or ""
    assert "is in 'en' but the recipe writes 'fr'" in reason and "strategy 'translate'" in reason


async def test_french_generation_takes_french_few_shot_examples(store: Store) -> None:
    seed_dataset(store, FR_SEEDS)
    fake = FakeBackend(responder=lambda r: json.dumps({"text": "Un avis tout à fait inventé pour le test."}))
    recipe = Recipe(
        scheme="binary",
        language="fr",
        seeds="seeds",
        backend=BackendSpec(kind="fake"),
        steps=[StepSpec(strategy="generate", params={"count": 2, "few_shot": 2})],
    )
    await run_recipe(recipe, store, "gen", backend=fake)
    prompt = fake.history[0].messages[-1].content
    assert prompt.startswith("Écris en français") and "La pizza était vraiment mauvaise." in prompt


async def test_any_named_language_falls_back_to_english_templates_with_an_instruction(store: Store) -> None:
    seed_dataset(store, [Sample(text="Die Pizza war wirklich schlecht.", label="negative", language="de")])

    def answer(request: ChatRequest) -> str:
        prompt = request.messages[-1].content
        if "Find the aspect" in prompt:
            return json.dumps({"aspects": [{"term": "Pizza", "category": "food", "polarity": "negative"}]})
        if request.grammar_choices:
            return "negative"
        return json.dumps({"text": "Ehrlich gesagt war die Pizza wirklich schlecht."})

    fake = FakeBackend(responder=answer)
    res, _ = await run_augmentation(store, "cda", {"per_seed": 1}, language="de", backend=fake)
    assert res.done == 1 and store.samples(res.dataset_id)[0].language == "de"
    rewrite = next(r for r in fake.history if "Paraphrase" in r.messages[-1].content)
    assert "German review text" in rewrite.messages[-1].content
    assert "Write every text in German" in rewrite.messages[0].content
    gen = FakeBackend(responder=lambda r: json.dumps({"text": "Ein völlig erfundener Satz für den Test."}))
    recipe = Recipe(
        scheme="binary",
        language="de",
        backend=BackendSpec(kind="fake"),
        steps=[StepSpec(strategy="generate", params={"count": 1})],
    )
    await run_recipe(recipe, store, "gen-de", backend=gen)
    assert "Write every text in German" in gen.history[0].messages[0].content


def test_language_names() -> None:
    assert language_name("fr") == "French" and language_name("DE") == "German"
    assert language_name("Klingon") == "Klingon"  # a name the user typed passes through
