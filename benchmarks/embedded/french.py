"""French with the embedded model, checked by lingua: generation straight in French, and
English seeds translated to French (the ``translate`` strategy), side by side.

    .venv/bin/python benchmarks/embedded/french.py --model qwen2.5-1.5b --count 6

Prints a Markdown table per path: label, text, lingua's language, and a flag for answers
that read like an assistant's reply or a refusal (META in samples.py).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from samples import META, cell, language_of  # type: ignore[import-not-found]

from sentiforge.app.jobs import run_recipe
from sentiforge.io.datasets import load_uci
from sentiforge.labels import get_scheme
from sentiforge.recipe import BackendSpec, Recipe, StepSpec
from sentiforge.store import Store


def report(title: str, samples: list, seconds: float) -> None:  # type: ignore[type-arg]
    accepted = [s for s in samples if s.status == "accepted"]
    langs = language_of([s.text for s in accepted])
    meta = sum(bool(META.search(s.text)) for s in accepted)
    fr = sum(lang == "fr" for lang in langs)
    print(
        f"\n### {title}: {len(accepted)} accepted of {len(samples)}, {fr} identified as French, "
        f"{meta} flagged, {seconds:.0f} s\n"
    )
    print("| label | text | language | flags |")
    print("|---|---|---|---|")
    for s, lang in zip(accepted, langs, strict=True):
        print(f"| {s.label} | {cell(s.text)} | {lang} | {'meta?' if META.search(s.text) else ''} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="qwen2.5-1.5b")
    ap.add_argument("--count", type=int, default=6)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    backend = BackendSpec(kind="embedded", model=args.model, n_threads=args.threads, json_mode="none")
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'fr.db'}")
        started = time.perf_counter()
        direct = Recipe(
            scheme="binary",
            language="fr",
            seed=3,
            backend=backend,
            steps=[
                StepSpec(
                    strategy="generate",
                    params={"count": args.count, "kind_of_text": "avis de client sur un restaurant"},
                )
            ],
        )
        res = asyncio.run(run_recipe(direct, store, "direct"))
        report("generated in French", store.samples(res.dataset_id, status=None), time.perf_counter() - started)

        seeds = [s.model_copy(update={"split": "train"}) for s in load_uci("yelp")[: args.count]]
        store.add_samples(store.create_dataset("seeds-en", get_scheme("binary"), kind="real"), seeds)
        started = time.perf_counter()
        translate = Recipe(
            scheme="binary",
            seeds="seeds-en",
            backend=backend,
            steps=[StepSpec(strategy="translate", params={"target": "fr"})],
        )
        res = asyncio.run(run_recipe(translate, store, "translated"))
        report(
            "English seeds translated to French",
            store.samples(res.dataset_id, status=None),
            time.perf_counter() - started,
        )


if __name__ == "__main__":
    main()
