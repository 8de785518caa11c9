"""Make the synthetic side of the TSTR benchmark with the embedded 1.5B model.

For each real set: split it (stratified, seeded, deduplicated), import both splits into the
store as a real dataset, then run a ``generate`` recipe through the engine with few-shot
examples from the *train* split only. The engine stores every sample as it comes, so a
killed run resumes where it stopped: just run the same command again.

    .venv/bin/python benchmarks/tstr/generate.py tweets --count 1000
    .venv/bin/python benchmarks/tstr/generate.py tweets --count 400 --describe
    .venv/bin/python benchmarks/tstr/generate.py movies --count 400 --describe
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from pathlib import Path

from sentiforge.app.jobs import create_job, resume_job
from sentiforge.engine import JobResult
from sentiforge.errors import StoreError
from sentiforge.io.datasets import load_vader
from sentiforge.io.splits import split_real
from sentiforge.labels import LabelScheme
from sentiforge.recipe import BackendSpec, Recipe, StepSpec
from sentiforge.store import Store

DEFAULT_DB = f"sqlite:///{Path.home() / '.sentiforge' / 'bench' / 'tstr.db'}"

# What each benchmark set is, and the prompt attributes that spread the synthetic texts out.
SETS: dict[str, dict[str, object]] = {
    "tweets": {
        "vader": "tweets",
        "scheme": "three_class",
        "kind_of_text": "tweet (informal, may use slang, abbreviations, hashtags or emoticons)",
        "attributes": {
            "domain": [
                "daily life",
                "friends and family",
                "work",
                "school",
                "sports",
                "music",
                "movies and TV",
                "food",
                "weather",
                "travel",
                "politics and news",
                "technology",
                "celebrities",
                "health",
            ],
            "persona": [
                "a teenager",
                "a college student",
                "a parent",
                "an office worker",
                "a sports fan",
                "a retiree",
                "a musician",
                "a small business owner",
            ],
        },
    },
    "movies": {
        "vader": "movies",
        "scheme": "binary",
        "kind_of_text": "sentence from a film critic's review",
        "attributes": {
            "domain": [
                "drama",
                "comedy",
                "thriller",
                "horror",
                "romance",
                "documentary",
                "action",
                "animation",
                "science fiction",
                "independent film",
                "biopic",
                "family film",
            ],
            "tone": ["witty", "plain", "literary", "sarcastic", "enthusiastic", "measured"],
        },
    },
}


# --describe: what each label means *in the real data*, put into the prompt. VADER's labels are
# mean ratings binned at +-0.5, so "neutral" covers plain statements and only mildly felt texts.
DESCRIPTIONS: dict[str, dict[str, str]] = {
    "three_class": {
        "negative": "negative (annoyed, sad, angry, disappointed or complaining)",
        "neutral": (
            "neutral: no clear feeling either way. A plain statement of fact, a news item, an everyday "
            "update, a question or a plan, without praise, excitement, complaint or sadness"
        ),
        "positive": "positive (happy, grateful, amused, approving or excited, even if only mildly)",
    },
    "binary": {
        "negative": "negative: the critic dislikes the film or finds a real fault in it",
        "positive": "positive: the critic likes or recommends the film",
    },
}


def proportional_labels(train_labels: list[str], slots: int = 12) -> list[str]:
    """A label list whose round-robin reproduces the real train split's label proportions."""
    counts = Counter(train_labels)
    total = sum(counts.values())
    out: list[str] = []
    for label, n in counts.most_common():
        out += [label] * max(1, round(slots * n / total))
    return out


def real_dataset(store: Store, name: str, spec: dict[str, object], seed: int) -> tuple[str, list[str]]:
    """Import the split real set once; returns its store name and the train labels."""
    ds = f"real-{name}"
    try:
        dataset_id = store.dataset_id(ds)
    except StoreError:
        samples = load_vader(str(spec["vader"]), str(spec["scheme"]))
        train, hold = split_real(samples, holdout=0.3, seed=seed)
        dataset_id = store.create_dataset(
            ds,
            store_scheme(spec),
            kind="real",
            meta={"source": f"vader:{spec['vader']}", "holdout": 0.3, "split_seed": seed},
        )
        store.add_samples(dataset_id, [*train, *hold])
    labels = [s.label or "" for s in store.iter_samples(dataset_id, split="train")]
    return ds, labels


def store_scheme(spec: dict[str, object]) -> LabelScheme:
    from sentiforge.labels import get_scheme

    return get_scheme(str(spec["scheme"]))


def build_recipe(
    name: str,
    spec: dict[str, object],
    real: str,
    labels: list[str],
    count: int,
    model: str,
    describe: bool,
    threads: int | None = None,
    json_mode: str = "none",
) -> Recipe:
    scheme: str | dict[str, object] = str(spec["scheme"])
    if describe:
        base = store_scheme(spec).model_dump(mode="json")
        scheme = {**base, "descriptions": DESCRIPTIONS[str(spec["scheme"])]}
    return Recipe(
        name=f"tstr-{name}{'-described' if describe else ''}",
        scheme=scheme,
        seed=7,
        seeds=real,
        seed_split="train",
        backend=BackendSpec(
            kind="embedded",
            model=model,
            n_threads=threads,
            json_mode=json_mode,  # type: ignore[arg-type]
        ),
        steps=[
            StepSpec(
                strategy="generate",
                params={
                    "count": count,
                    "kind_of_text": spec["kind_of_text"],
                    "attributes": spec["attributes"],
                    "labels": proportional_labels(labels),
                    "few_shot": 3,
                    "temperature": 0.9,
                },
            )
        ],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("set", choices=sorted(SETS))
    parser.add_argument("--count", type=int, required=True, help="synthetic samples to make")
    parser.add_argument("--model", default="qwen2.5-1.5b")
    parser.add_argument("--db", default=DEFAULT_DB)
    parser.add_argument("--seed", type=int, default=0, help="split seed")
    parser.add_argument("--describe", action="store_true", help="put what each label means in the prompt")
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp threads (1 when sharing the CPU)")
    parser.add_argument("--json-mode", default="none", help="embedded json_mode: none (no grammar, ~2x faster) or auto")
    args = parser.parse_args(argv)
    Path(args.db.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    store = Store(args.db)
    spec = SETS[args.set]
    real, labels = real_dataset(store, args.set, spec, args.seed)
    synth = f"synth-{args.set}-{args.model}{'-described' if args.describe else ''}"
    job_id = next((j.id for j in store.list_jobs() if j.dataset_id == _maybe_id(store, synth)), None)
    if job_id is None:
        recipe = build_recipe(
            args.set, spec, real, labels, args.count, args.model, args.describe, args.threads, args.json_mode
        )
        job_id = create_job(store, recipe, synth)
    print(f"real={real} train={len(labels)} {dict(Counter(labels))}; synthetic={synth} job={job_id}", flush=True)
    started, first = time.monotonic(), store.job(job_id).done

    def progress(done: int, target: int, rejected: int) -> None:
        if done % 25 == 0:
            rate = (time.monotonic() - started) / max(1, done - first)
            print(f"{done}/{target} accepted, {rejected} rejected, {rate:.2f} s/sample this run", flush=True)

    result: JobResult = asyncio.run(resume_job(store, job_id, progress=progress))
    print(result, flush=True)
    return 0 if result.status == "completed" else 1


def _maybe_id(store: Store, name: str) -> int | None:
    try:
        return store.dataset_id(name)
    except StoreError:
        return None


if __name__ == "__main__":
    sys.exit(main())
