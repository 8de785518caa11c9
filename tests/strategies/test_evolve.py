"""Evolution of real tweets: label kept or flipped on purpose, each output judged."""

import json

from sentiforge.app.jobs import run_recipe
from sentiforge.backends import ChatRequest
from sentiforge.io.datasets import load_builtin
from sentiforge.recipe import BackendSpec, Recipe, StepSpec
from sentiforge.store import Store
from sentiforge.testing import FakeBackend

SEEDS = [s for s in load_builtin("vader:tweets")[:300] if len(s.text.split()) > 5][:30]
TRUTH = {s.text: str(s.label) for s in SEEDS}
FLIP = {"positive": "negative", "negative": "positive"}


def responder(wrong_sarcasm: bool = False):  # type: ignore[no-untyped-def]
    def respond(request: ChatRequest) -> str:
        prompt = request.messages[-1].content
        if request.grammar_choices:  # the judge: reads the label the rewrite should have
            text = prompt.split('Text: "', 1)[1].rsplit('"', 1)[0]
            prefix, seed = text.split(" ", 1)
            label = TRUTH[seed]
            if prefix == "not":
                return FLIP.get(label, label)
            if prefix == "ironically" and wrong_sarcasm:
                return FLIP.get(label, "positive")
            return label
        seed = prompt.split('"', 2)[1]
        prefix = "not" if "opposite" in prompt else "ironically" if "sarcasm" in prompt else "so"
        return json.dumps({"text": f"{prefix} {seed}"})

    return respond


def run(tmp_path, wrong_sarcasm: bool = False):  # type: ignore[no-untyped-def]
    store = Store(f"sqlite:///{tmp_path}/t.db")
    seeds = store.create_dataset("seeds", Recipe().label_scheme(), kind="real")
    store.add_samples(seeds, [s.model_copy(update={"split": "train"}) for s in SEEDS])
    r = Recipe(
        backend=BackendSpec(kind="fake"),
        seeds="seeds",
        steps=[StepSpec(strategy="evolve", params={"evolutions": ["sarcasm", "negation", "typos"]})],
    )
    return store, run_recipe(r, store, "evolved", backend=FakeBackend(responder=responder(wrong_sarcasm)))


async def test_labels_are_kept_or_flipped_as_the_evolution_says(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store, job = run(tmp_path)
    res = await job
    made = store.samples(res.dataset_id)
    by = {s.attributes["evolution"]: s for s in made}
    assert set(by) == {"sarcasm", "negation", "typos"}
    for s in made:
        seed_label = TRUTH[s.text.split(" ", 1)[1]]
        expected = FLIP[seed_label] if s.attributes["evolution"] == "negation" else seed_label
        assert s.label == expected and s.provenance.parent_id is not None
    rejected = store.samples(res.dataset_id, status="rejected")
    # negation of a neutral seed is not attempted: rejected with the evolution check
    assert rejected and all(r.reason.startswith("evolution:") for r in rejected)  # type: ignore[union-attr]


async def test_an_evolution_the_judge_reads_otherwise_is_rejected(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store, job = run(tmp_path, wrong_sarcasm=True)
    res = await job
    reasons = [r.reason or "" for r in store.samples(res.dataset_id, status="rejected")]
    assert any(r.startswith("polarity: 'sarcasm' should read as") for r in reasons)
    assert all(s.attributes["evolution"] != "sarcasm" for s in store.samples(res.dataset_id))
