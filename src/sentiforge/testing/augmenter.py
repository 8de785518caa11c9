"""A scripted stand-in for an LLM that understands the augmentation prompts.

``FakeBackend`` fills JSON schemas with random words, which no augmentation check would
accept. :class:`ScriptedAugmenter` is a ``responder`` for it that answers each prompt the
way a good model would (extract a word that is in the text, paraphrase keeping the term,
swap the term, translate reversibly, judge by keywords), with switches that make one
behaviour go wrong, so tests can drive every check through the real engine.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sentiforge.backends.base import ChatRequest
from sentiforge.samples import Sample
from sentiforge.testing.backend import FakeBackend

if TYPE_CHECKING:
    from sentiforge.engine import JobResult
    from sentiforge.store import Store

_TEXT = re.compile(r'^Texte? ?: "(.*)"\s*$', re.MULTILINE)
_QUOTED = re.compile(r'"([^"]+)"')
NEGATIVE_WORDS = ("not", "bad", "awful", "terrible", "nasty", "rude", "never", "worst", "pas", "mauvais", "horrible")
OPENERS = ("Honestly,", "Frankly,", "To be fair,", "In short,", "Really,", "Overall,", "Truly,", "Basically,")
CANDIDATES = ("pasta", "salad", "soup", "bread", "steak", "dessert", "coffee", "wine", "cake", "rice")


@dataclass
class ScriptedAugmenter:
    """Call it with a request; returns the answer text. Flip a flag to break one behaviour."""

    extract_absent_term: bool = False  # propose a term that is not in the text
    drop_term: bool = False  # CDA/CADA/ADA outputs lose the (new) aspect term
    keep_original: bool = False  # ADA/CADA outputs keep the original term too
    flip_polarity: bool = False  # rewrites come back with the opposite sentiment
    echo: bool = False  # rewrites and translations return the input unchanged
    drift: bool = False  # round trips come back as an unrelated sentence
    candidates: tuple[str, ...] = CANDIDATES
    rationale: str = "Because the writer says so plainly."
    calls: dict[str, int] = field(default_factory=dict)

    def __call__(self, request: ChatRequest) -> str:
        prompt = request.messages[-1].content
        kind = self.kind(prompt)
        self.calls[kind] = self.calls.get(kind, 0) + 1
        text = self.text(prompt)
        if kind == "judge":
            negative = any(re.search(rf"\b{w}\b", text, re.IGNORECASE) for w in NEGATIVE_WORDS)
            choices = request.grammar_choices or ("negative", "positive")
            wanted = "negative" if negative else "positive"
            return wanted if wanted in choices else choices[0]
        if kind == "extract":
            return self.extract(text)
        if kind == "candidates":
            return json.dumps({"category": "food", "terms": list(self.candidates)})
        if kind == "translate":
            return self.answer(self.translate(prompt, text, request.seed or 0), request)
        return self.answer(self.rewrite(kind, prompt, text, request.seed or 0), request)

    @staticmethod
    def kind(prompt: str) -> str:
        markers = [
            ("opinion does the writer", "judge"), ("overall sentiment of this text", "judge"),
            ("Quelle opinion", "judge"), ("Quel est le sentiment global", "judge"),
            ("Find the aspect terms", "extract"), ("Trouve les aspects", "extract"),
            ("different terms of the same kind", "candidates"), ("termes différents", "candidates"),
            ("Translate the", "translate"), ("Write a new version", "cada"), ("Écris une nouvelle version", "cada"),
            ("replace the aspect", "ada"), ("remplace l'aspect", "ada"), ("Paraphrase", "cda"), ("Reformule", "cda"),
        ]  # fmt: skip
        for marker, kind in markers:
            if marker in prompt:
                return kind
        return "other"

    @staticmethod
    def text(prompt: str) -> str:
        found = _TEXT.findall(prompt)
        return found[-1] if found else ""

    def answer(self, text: str, request: ChatRequest) -> str:
        data = {"text": text}
        schema = request.json_schema or {}
        if "rationale" in schema.get("properties", {}):
            data["rationale"] = self.rationale
        return json.dumps(data, ensure_ascii=False)

    def extract(self, text: str) -> str:
        words = [w for w in re.findall(r"[A-Za-zÀ-ÿ]+", text) if len(w) >= 4 and w.lower() not in NEGATIVE_WORDS]
        term = "unicorn" if self.extract_absent_term or not words else max(words, key=len)
        polarity = "negative" if any(w in text.lower().split() for w in NEGATIVE_WORDS) else "positive"
        return json.dumps({"aspects": [{"term": term, "category": "thing", "polarity": polarity}]})

    def rewrite(self, kind: str, prompt: str, text: str, seed: int) -> str:
        if self.echo:
            return text
        quoted = _QUOTED.findall(prompt)
        term = quoted[0] if quoted else ""
        out = text
        if kind in {"ada", "cada"} and len(quoted) > 1:
            new = quoted[1]
            out = re.sub(rf"\b{re.escape(term)}\b", new, out, flags=re.IGNORECASE)
            if self.keep_original:
                out = f"{out} Also {term}."
            term = new
        if kind in {"cda", "cada"}:
            out = f"{OPENERS[seed % len(OPENERS)]} {out[0].lower()}{out[1:]}"
        if self.drop_term and term:
            out = re.sub(rf"\b{re.escape(term)}\b", "thing", out, flags=re.IGNORECASE)
        if self.flip_polarity:
            negative = rf"\b(?:{'|'.join(NEGATIVE_WORDS)})\b ?"
            flipped = re.sub(negative, "", out, flags=re.IGNORECASE)
            out = flipped if flipped != out else f"{out} Not good."
        return out

    def translate(self, prompt: str, text: str, seed: int) -> str:
        if self.echo:
            return text
        if self.drift:
            return "My neighbour repaired the old bicycle yesterday afternoon."
        target = re.search(r"into (\w+)\.", prompt)
        if target and target.group(1) != "English":
            return f"<{target.group(1)[:2].lower()}> {text}"
        stripped = re.sub(r"^<\w\w> ", "", text)
        return f"{OPENERS[seed % len(OPENERS)]} {stripped}"


SEED_TEXTS = (
    ("The pizza was not good at all.", "negative"),
    ("Loved the friendly waiter here.", "positive"),
    ("The soup was awful and cold.", "negative"),
    ("Great burgers and quick service.", "positive"),
)


def seed_dataset(
    store: Store, samples: Sequence[Sample] | None = None, *, name: str = "seeds", scheme: str = "binary"
) -> int:
    """A real dataset of seeds (train split unless a sample says otherwise)."""
    from sentiforge.labels import get_scheme

    if samples is None:
        samples = [Sample(text=t, label=label) for t, label in SEED_TEXTS]
    dataset_id = store.create_dataset(name, get_scheme(scheme), kind="real")
    store.add_samples(dataset_id, [s if s.split else s.model_copy(update={"split": "train"}) for s in samples])
    return dataset_id


async def run_augmentation(
    store: Store,
    strategy: str,
    params: dict[str, Any] | None = None,
    *,
    backend: FakeBackend | None = None,
    scheme: str = "binary",
    language: str = "en",
    seeds: str = "seeds",
    dataset: str = "out",
    max_attempts: int = 3,
) -> tuple[JobResult, FakeBackend]:
    """Run one augmentation step over ``seeds`` through the real engine with a scripted fake."""
    from sentiforge.app.jobs import run_recipe
    from sentiforge.recipe import FakeSpec, Recipe, StepSpec

    fake = backend or FakeBackend(responder=ScriptedAugmenter())
    recipe = Recipe(
        scheme=scheme,
        language=language,
        seeds=seeds,
        max_attempts=max_attempts,
        backend=FakeSpec(kind="fake"),
        steps=[StepSpec(strategy=strategy, params=params or {})],
    )
    return await run_recipe(recipe, store, dataset, backend=fake), fake
