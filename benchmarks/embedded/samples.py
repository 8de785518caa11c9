"""Generate a handful of samples with the embedded model, for reading by hand.

English and French, every label of three_class crossed with a few attributes, through the
engine and the Generate strategy (no few-shot examples, so the prompt alone does the
work). Prints a Markdown table with VADER's compound score beside the English texts and
flags answers that look like refusals or comments about the task.

    .venv/bin/python benchmarks/embedded/samples.py --model qwen2.5-1.5b > /tmp/samples.md
"""

from __future__ import annotations

import argparse
import asyncio
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from sentiforge.app.jobs import run_recipe
from sentiforge.recipe import BackendSpec, Recipe, StepSpec
from sentiforge.store import Store

META = re.compile(
    r"\b(sorry|I can(no|')t|as an AI|language model|here is|here's|synthetic|training data|placeholder|"
    r"désolé|je ne peux|en tant qu)",
    re.IGNORECASE,
)
RUNS: dict[str, dict[str, Any]] = {
    # labels go round-robin; the attribute combination is drawn with each slot's seed
    "en": {
        "count": 9,
        "kind_of_text": "customer message",
        "attributes": {
            "domain": ["bank", "online shop", "telecom"],
            "persona": ["a retired teacher", "a busy nurse", "a student"],
        },
    },
    "fr": {
        "count": 6,
        "kind_of_text": "un message de client",
        "attributes": {
            "domain": ["banque", "boutique en ligne", "opérateur mobile"],
            "persona": ["une enseignante retraitée", "un infirmier débordé", "une étudiante"],
        },
    },
}


def vader() -> Any:
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError:
        return None
    return SentimentIntensityAnalyzer()


def language_of(texts: list[str]) -> list[str]:
    """lingua's language (ISO 639-1) per text, among English, French, Spanish and German."""
    try:
        from sentiforge.language import LanguageIdentifier
    except ImportError:
        return ["" for _ in texts]
    return [code for code, _ in LanguageIdentifier(["en", "fr", "es", "de"]).identify(texts)]


def run_language(model: str, language: str, seed: int, workdir: Path) -> tuple[list[Any], Any]:
    params = {"few_shot": 0, "lengths": ["short"], **RUNS[language]}
    recipe = Recipe(
        scheme="three_class",
        language=language,
        seed=seed,
        backend=BackendSpec(kind="embedded", model=model, n_threads=1),
        steps=[StepSpec(strategy="generate", params=params)],
        max_attempts=3,
    )
    store = Store(f"sqlite:///{workdir / f'{language}.db'}")
    result = asyncio.run(run_recipe(recipe, store, f"samples-{language}"))
    return store.samples(result.dataset_id, status=None), result


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="qwen2.5-1.5b")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--languages", nargs="+", default=["en", "fr"])
    args = ap.parse_args()
    analyzer = vader()
    with tempfile.TemporaryDirectory() as tmp:
        for language in args.languages:
            started = time.perf_counter()
            samples, result = run_language(args.model, language, args.seed, Path(tmp))
            print(
                f"\n### {language}: {result.done} accepted, {result.rejected} rejected, {result.requests} requests, "
                f"{time.perf_counter() - started:.0f} s\n"
            )
            detected = language_of([s.text for s in samples])
            ok = sum(d == language for d, s in zip(detected, samples, strict=True) if s.status == "accepted")
            print(f"lingua: {ok} of {result.done} accepted texts identified as '{language}'\n")
            print("| label | attributes | text | VADER | language | flags |")
            print("|---|---|---|---|---|---|")
            for s, lang in zip(samples, detected, strict=True):
                attrs = ", ".join(f"{v}" for k, v in s.attributes.items() if k != "length")
                score = f"{analyzer.polarity_scores(s.text)['compound']:+.2f}" if analyzer and language == "en" else ""
                flags = "meta?" if META.search(s.text) else ""
                label = s.label if s.status == "accepted" else f"rejected: {s.reason}"
                print(f"| {label} | {cell(attrs)} | {cell(s.text)} | {score} | {lang} | {flags} |")


if __name__ == "__main__":
    main()
