"""Augmentation benchmark: does CDA / ADA / CADA / backtranslation of 200 real seeds help a
small classifier on real held-out data?

    python benchmarks/augment/run.py prepare
    python benchmarks/augment/run.py augment cada --per-seed 1     # resumable: rerun to continue
    python benchmarks/augment/run.py evaluate                       # writes results.json

Seeds and held-out split come from the UCI Yelp sentences (packaged: sentiforge/io/data), split once
with a fixed seed: 200 training seeds (100 per label) and the other 800 sentences held out.
Every augmentation runs through the engine and the store, so a killed run resumes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import time
import uuid
from pathlib import Path
from typing import Any

from sentiforge.app.jobs import create_job
from sentiforge.engine import Engine
from sentiforge.errors import StoreError
from sentiforge.io.datasets import load_uci
from sentiforge.labels import get_scheme
from sentiforge.recipe import BackendSpec, Recipe, StepSpec
from sentiforge.samples import Sample
from sentiforge.store import Store

HERE = Path(__file__).resolve().parent
# BENCH_SPLIT_SEED draws another 200 seeds / 800 held-out split (its own store and results file)
SPLIT_SEED = int(os.environ.get("BENCH_SPLIT_SEED", "13"))
SUFFIX = "" if SPLIT_SEED == 13 else f"-split{SPLIT_SEED}"
WORK = Path(os.environ.get("BENCH_AUGMENT_DIR", Path.home() / ".sentiforge" / f"bench-augment{SUFFIX}"))
RESULTS = Path(__file__).resolve().parent / f"results{SUFFIX}.json"
DB = f"sqlite:///{WORK / 'bench.db'}"
N_SEEDS = 200
SEEDS, HOLDOUT = "yelp-seeds", "yelp-holdout"
RUNS = HERE / "runs.jsonl"
# benchmark name -> (strategy, its params)
STRATEGY_PARAMS: dict[str, tuple[str, dict[str, Any]]] = {
    "cda": ("cda", {}),
    "ada": ("ada", {}),
    "cada": ("cada", {}),
    "backtranslate": ("backtranslate", {"routes": ["fr"]}),
    # rule-based round trip through Spanish with Debian's Apertium (polarity judge still the LLM)
    "apertium": ("backtranslate", {"engine": "apertium", "routes": ["es"]}),
}
# the JSON-schema grammar roughly halves llama.cpp's decoding speed on these CPUs; the prompts
# ask for JSON and the strategies' parser + retries handle the rest (rejects counted as "format")
JSON_MODE = os.environ.get("BENCH_JSON_MODE", "none")


def split_yelp() -> tuple[list[Sample], list[Sample]]:
    """200 seeds (100 per label) and the remaining 800 as the real held-out test set."""
    items = load_uci("yelp")
    rng = random.Random(SPLIT_SEED)
    by_label: dict[str, list[Sample]] = {}
    for s in items:
        by_label.setdefault(s.label or "", []).append(s)
    seeds: list[Sample] = []
    holdout: list[Sample] = []
    for label in sorted(by_label):
        group = by_label[label][:]
        rng.shuffle(group)
        take = N_SEEDS // len(by_label)
        seeds += [s.model_copy(update={"split": "train"}) for s in group[:take]]
        holdout += [s.model_copy(update={"split": "holdout"}) for s in group[take:]]
    return seeds, holdout


def prepare(store: Store) -> None:
    seeds, holdout = split_yelp()
    scheme = get_scheme("binary")
    for name, samples in ((SEEDS, seeds), (HOLDOUT, holdout)):
        try:
            store.dataset_id(name)
            print(f"{name}: exists")
        except StoreError:
            ds = store.create_dataset(name, scheme, kind="real", meta={"source": "uci-yelp", "split_seed": SPLIT_SEED})
            store.add_samples(ds, samples)
            print(f"{name}: {len(samples)} samples")


def dataset_name(strategy: str, per_seed: int, n_seeds: int = N_SEEDS) -> str:
    return f"yelp-{strategy}-x{per_seed}" + ("" if n_seeds == N_SEEDS else f"-n{n_seeds}")


def seed_subset(store: Store, n: int) -> str:
    """The first n/2 seeds of each label, as their own dataset (for runs in tranches).

    A slot's request depends on the seed's text and variant, not on its position, so a
    later run on a larger subset answers the earlier seeds from the response cache.
    """
    if n >= N_SEEDS:
        return SEEDS
    name = f"{SEEDS}-{n}"
    if _maybe_id(store, name) is None:
        by_label: dict[str, list[Sample]] = {}
        for s in store.samples(store.dataset_id(SEEDS)):
            by_label.setdefault(s.label or "", []).append(s)
        subset = [s.model_copy(update={"id": None}) for group in by_label.values() for s in group[: n // len(by_label)]]
        try:
            store.add_samples(store.create_dataset(name, get_scheme("binary"), kind="real"), subset)
        except StoreError:  # a parallel loop made it first; wait until its samples are in
            while store.count(store.dataset_id(name)) < len(subset):
                time.sleep(1)
    return name


def augment(
    store: Store,
    strategy: str,
    per_seed: int,
    model: str,
    max_attempts: int,
    threads: int | None,
    n_seeds: int = N_SEEDS,
    copies: int = 1,
) -> None:
    from sentiforge.backends import from_spec

    name = dataset_name(strategy, per_seed, n_seeds)
    seeds = seed_subset(store, n_seeds)
    recipe = Recipe(
        name=f"bench-augment-{strategy}",
        scheme="binary",
        seed=0,
        seeds=seeds,
        seed_split="train",
        max_attempts=max_attempts,
        backend=BackendSpec(
            kind="embedded",
            model=model,
            n_threads=threads,
            copies=copies,
            json_mode=JSON_MODE,  # type: ignore[arg-type]
        ),
        steps=[
            StepSpec(
                strategy=STRATEGY_PARAMS[strategy][0], params={"per_seed": per_seed, **STRATEGY_PARAMS[strategy][1]}
            )
        ],
    )
    jobs = [j for j in store.list_jobs() if j.dataset_id == _maybe_id(store, name)]
    job_id = jobs[-1].id if jobs else create_job(store, recipe, name)
    backend = from_spec(recipe.backend)
    started = time.time()
    last = {"t": started}

    def progress(done: int, target: int, rejected: int) -> None:
        if time.time() - last["t"] > 60:
            last["t"] = time.time()
            print(f"  {name}: {done}/{target} accepted, {rejected} rejected, {time.time() - started:.0f} s", flush=True)

    async def go() -> Any:
        try:
            return await Engine(store, backend, progress=progress).run(job_id)
        finally:
            await backend.aclose()

    result = asyncio.run(go())
    record = {
        "dataset": name,
        "strategy": strategy,
        "per_seed": per_seed,
        "n_seeds": n_seeds,
        "model": model,
        "job": job_id,
        "status": result.status,
        "done": result.done,
        "target": result.target,
        "rejected": result.rejected,
        "requests": result.requests,
        "cache_hits": result.cache_hits,
        "seconds": round(result.seconds, 1),
        "completion_tokens": result.completion_tokens,
        "load": os.getloadavg()[0],
        "at": time.strftime("%F %T"),
        "threads": threads,
        "copies": copies,
        "json_mode": JSON_MODE,
        "store": store_id(),
        "split_seed": SPLIT_SEED,
    }
    with RUNS.open("a") as f:
        f.write(json.dumps(record) + "\n")
    print(json.dumps(record))


def store_id() -> str:
    """Names the store a run used: runs on another store (another machine) paid for their own calls."""
    path = WORK / "store-id"
    if not path.exists():
        path.write_text(uuid.uuid4().hex[:12])
    return path.read_text().strip()


def _maybe_id(store: Store, name: str) -> int | None:
    try:
        return store.dataset_id(name)
    except StoreError:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("prepare")
    a = sub.add_parser("augment")
    a.add_argument("strategy", choices=sorted(STRATEGY_PARAMS))
    a.add_argument("--per-seed", type=int, default=1)
    a.add_argument("--model", default="qwen2.5-1.5b")
    a.add_argument("--max-attempts", type=int, default=3)
    a.add_argument("--threads", type=int, default=None, help="llama.cpp threads (1 is faster on a busy machine)")
    a.add_argument("--copies", type=int, default=1, help="model copies answering in parallel (one per core)")
    a.add_argument("--seeds", type=int, default=N_SEEDS, help="augment only the first n/2 seeds of each label")
    e = sub.add_parser("evaluate")
    e.add_argument("--max-synthetic-share", type=float, default=0.6)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    store = Store(DB)
    if args.cmd == "prepare":
        prepare(store)
    elif args.cmd == "augment":
        augment(
            store, args.strategy, args.per_seed, args.model, args.max_attempts, args.threads, args.seeds, args.copies
        )
    else:
        from evaluate import evaluate  # type: ignore[import-not-found]

        evaluate(store, args.max_synthetic_share, RESULTS, SPLIT_SEED, store_id())


if __name__ == "__main__":
    main()
