import json
from collections import Counter

import pytest

from sentiforge.app.jobs import run_recipe
from sentiforge.backends import ChatRequest
from sentiforge.errors import ConfigError
from sentiforge.recipe import BackendSpec, Recipe, StepSpec
from sentiforge.samples import Sample
from sentiforge.store import Store
from sentiforge.testing import FakeBackend


def recipe(count: int = 12, scheme: str = "three_class", **params: object) -> Recipe:
    return Recipe(
        scheme=scheme,
        backend=BackendSpec(kind="fake"),
        steps=[StepSpec(strategy="generate", params={"count": count, **params})],
    )


@pytest.fixture
def store(tmp_path) -> Store:  # type: ignore[no-untyped-def]
    return Store(f"sqlite:///{tmp_path}/t.db")


async def test_balanced_quotas_and_provenance(store: Store) -> None:
    fake = FakeBackend()
    res = await run_recipe(recipe(30), store, "d", backend=fake)
    assert res.status == "completed" and res.done == 30
    assert store.count(res.dataset_id, by="label") == {"negative": 10, "neutral": 10, "positive": 10}
    s = store.samples(res.dataset_id)[0]
    p = s.provenance
    assert p.strategy == "generate" and p.backend == "fake" and p.template == "generate.j2"
    assert p.template_hash and "seed" in p.params and p.prompt_tokens > 0


async def test_attribute_combinations_are_balanced_when_asked(store: Store) -> None:
    attrs = {"domain": ["bank", "telecom"], "persona": ["student", "retiree"]}
    res = await run_recipe(recipe(24, attributes=attrs, balance_attributes=True), store, "d", backend=FakeBackend())
    cells = Counter((s.label, s.attributes["domain"], s.attributes["persona"]) for s in store.samples(res.dataset_id))
    assert len(cells) == 12 and set(cells.values()) == {2}


async def test_prompts_carry_attributes_label_and_rotated_few_shot(store: Store) -> None:
    seeds = store.create_dataset("seeds", Recipe().label_scheme(), kind="real")
    store.add_samples(
        seeds, [Sample(text=f"real example number {i}", label="positive", split="train") for i in range(10)]
    )
    fake = FakeBackend()
    r = recipe(9, attributes={"persona": ["an angry student"], "urgency": ["high"]}, few_shot=3, temperature=0.3)
    r.seeds = "seeds"
    await run_recipe(r, store, "d", backend=fake)
    prompts = [req.messages[-1].content for req in fake.history]
    assert all("an angry student" in p and "Urgency: high" in p for p in prompts)
    assert all(p.count("real example number") == 3 for p in prompts)
    shown = {tuple(sorted(x for x in p.split("\n") if "real example" in x)) for p in prompts}
    assert len(shown) > 3  # examples rotate between prompts
    assert {req.temperature for req in fake.history} == {0.3}
    assert all(req.json_schema and req.json_schema["required"] == ["text"] for req in fake.history)
    assert "synthetic training data" in fake.history[0].messages[0].content


async def test_holdout_split_is_never_used_for_few_shot(store: Store) -> None:
    seeds = store.create_dataset("seeds", Recipe().label_scheme(), kind="real")
    store.add_samples(
        seeds,
        [
            Sample(text="TRAIN sentence here", label="positive", split="train"),
            Sample(text="HOLDOUT sentence here", label="negative", split="holdout"),
        ],
    )
    fake = FakeBackend()
    r = recipe(6, few_shot=1)
    r.seeds = "seeds"
    await run_recipe(r, store, "d", backend=fake)
    text = " ".join(req.messages[-1].content for req in fake.history)
    assert "TRAIN sentence" in text and "HOLDOUT" not in text


async def test_garbage_is_rejected_with_reason_and_retried(store: Store) -> None:
    fake = FakeBackend()
    fake.enqueue(["not json at all", "", '{"text": "ok"}', '```json\n{"text": "A fine fenced answer here.",}\n```'])
    res = await run_recipe(recipe(1, labels=["positive"]), store, "d", backend=fake)
    assert res.done == 1 and res.rejected == 3
    rejects = store.samples(res.dataset_id, status="rejected")
    reasons = " | ".join(r.reason or "" for r in rejects)
    assert "not a JSON object" in reasons and "empty answer" in reasons and "too short" in reasons
    assert store.samples(res.dataset_id)[0].text == "A fine fenced answer here."


async def test_a_bare_json_string_answer_is_taken_as_the_text(store: Store) -> None:
    fake = FakeBackend()
    fake.enqueue(['"Just a quoted sentence, no object around it."'])
    res = await run_recipe(recipe(1, labels=["positive"]), store, "d", backend=fake)
    assert res.done == 1 and res.rejected == 0
    assert store.samples(res.dataset_id)[0].text == "Just a quoted sentence, no object around it."


async def test_slot_that_never_succeeds_is_refilled_to_exact_count(store: Store) -> None:
    calls = {"n": 0}

    def responder(req: ChatRequest) -> str:
        calls["n"] += 1
        return "garbage" if calls["n"] <= 3 else json.dumps({"text": f"valid generated text number {calls['n']}"})

    r = recipe(4)
    r.max_attempts = 3
    res = await run_recipe(r, store, "d", backend=FakeBackend(responder=responder, max_concurrency=1))
    assert res.done == 4 and res.rejected == 3 and res.status == "completed"


async def test_refills_keep_class_and_attribute_quotas_exact(store: Store) -> None:
    """Slots that fail all their attempts are refilled with their own label and attribute cell,
    so a model that fails more on one class still yields the quotas asked for."""

    def responder(req: ChatRequest) -> str:
        negative = "must be clearly: negative" in req.messages[-1].content
        # fails "negative" two times in three, the other labels one time in four (by request seed)
        bad = (req.seed or 0) % 3 != 0 if negative else (req.seed or 0) % 4 == 0
        return "garbage" if bad else json.dumps({"text": f"valid generated text for seed {req.seed}"})

    attrs = {"domain": ["bank", "telecom"]}
    r = recipe(36, attributes=attrs, balance_attributes=True)
    r.max_attempts = 1
    res = await run_recipe(r, store, "d", backend=FakeBackend(responder=responder, max_concurrency=4))
    assert res.status == "completed" and res.done == 36 and res.rejected >= 12
    cells = Counter((s.label, s.attributes["domain"]) for s in store.samples(res.dataset_id))
    assert len(cells) == 6 and set(cells.values()) == {6}


async def test_exact_duplicates_are_rejected(store: Store) -> None:
    fake = FakeBackend(responder=lambda req: json.dumps({"text": "Always the SAME text here!"}))
    r = recipe(2)
    r.max_attempts = 2
    res = await run_recipe(r, store, "d", backend=fake)
    assert res.done == 1 and res.status == "incomplete"
    assert "exact duplicate" in (store.samples(res.dataset_id, status="rejected")[0].reason or "")


async def test_same_seed_same_dataset(store: Store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    a = await run_recipe(recipe(9), store, "a", backend=FakeBackend())
    other = Store(f"sqlite:///{tmp_path}/other.db")
    b = await run_recipe(recipe(9), other, "b", backend=FakeBackend())
    assert [s.text for s in store.samples(a.dataset_id)] == [s.text for s in other.samples(b.dataset_id)]


async def test_aspect_scheme_checks_terms_in_text(store: Store) -> None:
    answers = [
        json.dumps(
            {"text": "The battery dies within an hour.", "aspects": [{"term": "screen", "polarity": "negative"}]}
        ),
        json.dumps(
            {"text": "The battery dies within an hour.", "aspects": [{"term": "battery", "polarity": "positive"}]}
        ),
        json.dumps(
            {"text": "The battery dies within an hour.", "aspects": [{"term": "battery", "polarity": "negative"}]}
        ),
    ]
    fake = FakeBackend()
    fake.enqueue(answers)  # type: ignore[arg-type]
    res = await run_recipe(
        recipe(1, scheme="aspect", labels=["negative"], aspect_categories=["laptop part"]), store, "d", backend=fake
    )
    assert res.done == 1
    reasons = [r.reason for r in store.samples(res.dataset_id, status="rejected")]
    assert any("do not occur" in (r or "") for r in reasons) and any("requested polarity" in (r or "") for r in reasons)
    sample = store.samples(res.dataset_id)[0]
    assert sample.aspects and sample.aspects[0].term == "battery" and sample.aspects[0].category == "laptop part"


async def test_multilabel_and_rationale(store: Store) -> None:
    res = await run_recipe(recipe(6, scheme="emotions", rationale=True), store, "d", backend=FakeBackend())
    samples = store.samples(res.dataset_id)
    assert all(s.labels and s.rationale for s in samples)
    assert any(len(s.labels or []) == 2 for s in samples)


async def test_french_prompts(store: Store) -> None:
    fake = FakeBackend()
    r = recipe(3)
    r.language = "fr"
    res = await run_recipe(r, store, "d", backend=fake)
    prompt = fake.history[0].messages[-1].content
    assert "français" in prompt and "un message de client" in prompt and "customer message" not in prompt
    asked = " ".join(r.messages[-1].content for r in fake.history)  # the labels in French, described
    assert all(word in asked for word in ("neutre (aucun sentiment", "positif (l'auteur", "négatif (l'auteur"))
    assert {s.language for s in store.samples(res.dataset_id)} == {"fr"}


def test_unknown_options_are_refused() -> None:
    from sentiforge.strategies import build_strategy

    with pytest.raises(ConfigError, match="invalid options"):
        build_strategy("generate", {"count": 3, "colour": "red"})
    # any attribute name is allowed (issue: user-defined prompt attributes), but it must be a word
    build_strategy("generate", {"attributes": {"mood": ["x"]}})
    with pytest.raises(ConfigError, match="prompt attribute names must be words"):
        build_strategy("generate", {"attributes": {"my mood": ["x"]}})
    with pytest.raises(ConfigError, match="not 'length'"):
        build_strategy("generate", {"attributes": {"length": ["x"]}})
    with pytest.raises(ConfigError, match="unknown strategy"):
        build_strategy("nope", {})
