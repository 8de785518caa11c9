"""The customer-voice check: agent replies, placeholders and JSON residue get their own
reasons, in generation and in the gate; real customers' texts pass."""

from __future__ import annotations

import json
from pathlib import Path

from sentiforge.app.jobs import run_recipe
from sentiforge.backends import ChatRequest
from sentiforge.io.datasets import load_uci, load_vader
from sentiforge.quality.config import FilterConfig
from sentiforge.quality.filters import FilterCheck
from sentiforge.quality.voice import customer_written, voice_problem
from sentiforge.recipe import BackendSpec, Recipe, StepSpec
from sentiforge.samples import Sample
from sentiforge.store import Store
from sentiforge.testing import FakeBackend

# What small models wrote when asked for a customer's message (issue #19's runs), and the
# stock phrases of support replies in English and French.
AGENT_REPLIES = [
    "Hello! How can I assist you today?",
    "Thank you for your purchase. I am so glad you are satisfied",
    "Dear [Customer Name], we apologize for the inconvenience and will refund you.",
    "We apologize for the inconvenience caused by the outage.",
    "Thank you for contacting us, our team will get back to you within 24 hours.",
    "Is there anything else I can help you with?",
    "We're sorry to hear about your experience. Please don't hesitate to reach out.",
    "Bonjour, comment puis-je vous aider ?",
    "Cher client, nous nous excusons pour le désagrément.",
    # what got through the main job before these were added (benchmarks/main_job)
    "I'm sorry to hear you're having trouble with your account. Can you please provide me with some more details?",
    "Hey there! I'm sorry to hear you're having trouble with your cell phone. I can definitely help you with that.",
    "Hey there! I'm so sorry to hear about the problem. Can you give me a little more information about the issue?",
    "I'm sorry you're having trouble with your account. Could you please provide more details? I'm here to help.",
]
ARTEFACTS = [
    'My internet has been down since Monday and nobody answers."}',
    "I still have not received order #XXXX, where is it?",
    "Hi {customer_name}, my card was charged twice.",
    '{"text": "The app keeps crashing when I log in"',
]


def test_real_customer_texts_pass_and_agent_replies_do_not() -> None:
    real = [s.text for name in ("tweets", "amazon", "movies", "nyt") for s in load_vader(name)]
    real += [s.text for name in ("yelp", "amazon", "imdb") for s in load_uci(name)]
    assert len(real) > 26_000
    assert [t for t in real if voice_problem(t)] == []
    for text in AGENT_REPLIES:
        assert (voice_problem(text) or "").startswith(("agent voice", "placeholder")), text
    for text in ARTEFACTS:
        assert (voice_problem(text) or "").startswith(("placeholder", "JSON residue")), text
    assert voice_problem("How can I help you today?", customer=False) is None  # agent replies asked for


def test_who_writes_a_kind_of_text() -> None:
    assert customer_written("customer support message") and customer_written("tweet")
    assert not customer_written("support agent reply") and not customer_written("réponse du conseiller")


def test_the_gate_rejects_each_with_its_own_reason() -> None:
    samples = [Sample(text=t, label="neutral") for t in [*AGENT_REPLIES[:2], ARTEFACTS[0], "My parcel is late again."]]
    results = FilterCheck(FilterConfig(language="off", unknown_language="off")).run(samples)
    assert [r.verdict for r in results] == ["reject", "reject", "reject", "pass"]
    assert (results[0].reason or "").startswith("agent voice") and (results[2].reason or "").startswith("JSON residue")
    lenient = FilterCheck(FilterConfig(language="off", unknown_language="off", agent_voice="off", artefacts="off"))
    assert all(r.verdict == "pass" for r in lenient.run(samples))


async def test_generation_rejects_agent_voice_and_artefacts_and_retries(tmp_path: Path) -> None:
    answers = iter([*AGENT_REPLIES[:1], ARTEFACTS[0], "My bill doubled this month and nobody explains why."])

    def respond(request: ChatRequest) -> str:
        return json.dumps({"text": next(answers)})

    recipe = Recipe(
        backend=BackendSpec(kind="fake"),
        steps=[StepSpec(params={"count": 1, "few_shot": 0, "labels": ["negative"], "kind_of_text": "customer email"})],
    )
    store = Store(f"sqlite:///{tmp_path / 'v.db'}")
    backend = FakeBackend(responder=respond, max_concurrency=1)
    result = await run_recipe(recipe, store, "voice", backend=backend)
    assert result.done == 1 and result.rejected == 2
    reasons = sorted((s.reason or "").split(":")[0] for s in store.samples(result.dataset_id, status="rejected"))
    assert reasons == ["JSON residue", "agent voice"]
    prompt = backend.history[0].messages[-1].content
    assert "never as a company or a support agent answering it" in prompt  # the model is told first


def test_a_placeholder_signature_is_cut_not_the_message() -> None:
    from sentiforge.quality.voice import without_sign_off

    assert without_sign_off("My bill doubled and nobody explains why. Best regards, [Your Name]") == (
        "My bill doubled and nobody explains why."
    )
    assert without_sign_off("Please fix it!\nSincerely,\n[Customer Name]") == "Please fix it!"
    assert without_sign_off("Fix my router - thanks [Your Name]") == "Fix my router."
    assert without_sign_off("Thanks [Name]") == "Thanks [Name]"  # nothing left: the check rejects it
    assert without_sign_off("Dear [Name], my card was charged twice.") == "Dear [Name], my card was charged twice."
