"""Labels that hold: the judge reads each generated text, and a text that says another label
is rejected with its own reason (on by default on the embedded model)."""

import json

from sentiforge.app.jobs import run_recipe
from sentiforge.backends import ChatRequest
from sentiforge.io.datasets import load_builtin
from sentiforge.labels import get_scheme
from sentiforge.recipe import BackendSpec, Recipe, StepSpec
from sentiforge.store import Store
from sentiforge.strategies.generate import LABEL_NOT_HELD
from sentiforge.testing import FakeBackend

SCHEME = get_scheme("three_class")
ASKED = {SCHEME.describe(label): label for label in SCHEME.labels}  # the prompt names the label by its description
ALL = {s.text: str(s.label) for s in load_builtin("vader:tweets")}  # what the judge reads, real labels
TWEETS = {s.label: s.text for s in load_builtin("vader:tweets")[:200] if len(s.text.split()) > 5}


def judge_reads(request: ChatRequest) -> dict[str, float]:
    """The judge's scores: the real label of the tweet quoted in its prompt, most likely."""
    quoted = request.messages[-1].content.rsplit("Text: ", 1)[1]
    return {label: -0.05 if label == ALL[quoted] else -4.0 for label in SCHEME.labels}


def backend(name: str = "fake") -> FakeBackend:
    """Answers generation with a real tweet of the *wrong* label on every other call; the
    judge (one scored answer token) with the quoted tweet's real label."""
    calls = {"n": 0}

    def respond(request: ChatRequest) -> str | dict[str, float]:
        if request.top_logprobs:
            return judge_reads(request)
        calls["n"] += 1
        asked = ASKED[request.messages[-1].content.split("must be clearly: ")[1].split(".\n")[0]]
        wrong = "negative" if asked != "negative" else "positive"
        return json.dumps({"text": TWEETS[wrong if calls["n"] % 2 else asked]})

    fake = FakeBackend(responder=respond)
    fake.name = name  # type: ignore[misc]
    return fake


def recipe(count: int, **params: object) -> Recipe:
    return Recipe(backend=BackendSpec(kind="fake"), steps=[StepSpec(params={"count": count, "few_shot": 0, **params})])


async def test_texts_the_judge_reads_as_another_label_are_rejected(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = Store(f"sqlite:///{tmp_path}/t.db")
    res = await run_recipe(recipe(3, check_label="judge"), store, "d", backend=backend())
    assert res.status == "completed" and res.done == 3
    assert all(TWEETS[s.label] == s.text for s in store.samples(res.dataset_id))
    reasons = store.count(res.dataset_id, status="rejected", by="reason")
    assert sum(reasons.values()) == 3 and all(r.startswith(LABEL_NOT_HELD) for r in reasons)


async def test_on_by_default_on_the_embedded_model_only(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = Store(f"sqlite:///{tmp_path}/t.db")
    on = await run_recipe(recipe(3), store, "embedded", backend=backend("embedded"))
    api = backend("openai")
    off = await run_recipe(recipe(1), store, "api", backend=api)
    assert on.rejected == 3
    assert off.rejected == 0 and not any(r.top_logprobs for r in api.history)
    kept = store.samples(off.dataset_id)[0]
    assert TWEETS[kept.label] != kept.text  # unchecked, the wrong-label text got through


async def test_generator_and_judge_read_the_same_description(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The neutral label is described (a plain fact, news, a plan or a question) to the model
    that writes the text and to the judge that reads it, so both mean the same thing."""
    store = Store(f"sqlite:///{tmp_path}/t.db")
    fake = backend()
    await run_recipe(recipe(3, check_label="judge"), store, "d", backend=fake)
    described = SCHEME.describe("neutral")
    writes = [r.messages[-1].content for r in fake.history if not r.top_logprobs]
    judges = [r.messages[-1].content for r in fake.history if r.top_logprobs]
    assert any(f"must be clearly: {described}." in p for p in writes)
    assert judges and all(f"- neutral: {described}" in p for p in judges)
