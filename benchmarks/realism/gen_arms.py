"""Realism benchmark, the generation arms (issue #12): today's generation, grounded
generation, grounded + evolution, beside the pseudo-labels of run.py.

Two phases, so the classifier evaluation over seed draws can rerun without the model:

    # 1. generate (model time, under the lock); one set per arm, from draw 0's seeds and pool
    flock /tmp/sentiforge-model.lock .venv/bin/python benchmarks/realism/gen_arms.py generate \
        --dataset tweets --model qwen2.5-1.5b --count 120 --evolve 60
    # 2. evaluate the cached sets over 3 seed draws (MiniLM: under the lock too)
    flock /tmp/sentiforge-model.lock .venv/bin/python benchmarks/realism/gen_arms.py evaluate \
        --datasets tweets,uci --draws 3 --classifiers tfidf,embedding

Generation goes through the application layer (GenerateRequest / AugmentRequest, jobs.submit,
jobs.run) on a SQLite store of its own. Draw 0's 200 seeds are imported as the labelled
dataset; the rest of the train split (labels dropped) is grounded (``ground_file``: MiniLM,
k-means clusters and topics) into the pool. Arms:

- ``today``: ``generate --seeds`` as before the issue: 2 seeds shown as few-shot examples,
  the kind of text and a domain attribute, short texts (the defaults' copy rejection and,
  on the embedded model, the judge apply as they do today).
- ``grounded``: ``generate --pool --match-style``: one cluster of the pool per prompt, its
  topic, lengths and habits drawn from the pool.
- ``evolved``: grounded + evolution: the first ``--evolve`` grounded samples (label-balanced)
  plus their evolutions (``augment --strategies evolve``, one per sample, judge on).

Each arm's accepted samples go to ``generated/<dataset>/<arm>.jsonl`` with the job's time,
requests and rejections in ``generated/<dataset>/meta.json``; ``--backend fake`` checks the
pipeline end to end in seconds (into the temporary folder, not the benchmark's).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from draws import DATASETS, real_split, stratified
from run import HERE

import sentiforge.testing  # noqa: F401  (registers the fakes: the pipeline check names them)
from sentiforge.labels import get_scheme
from sentiforge.samples import Sample

KIND_OF_TEXT = {
    "tweets": "tweet (informal, may use slang, abbreviations, hashtags or emoticons)",
    "uci": "one-sentence review of a product, a movie or a restaurant",
}
DOMAINS = {
    "tweets": [
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
    "uci": ["a phone or gadget bought online", "a movie", "a restaurant"],
}


def out_dir(name: str, fake: bool) -> Path:
    return (Path(tempfile.gettempdir()) / "sentiforge-realism-fake" if fake else HERE / "generated") / name


def write_jsonl(path: Path, samples: list[Sample]) -> None:
    rows = [
        {"text": s.text, "label": s.label, "attributes": s.attributes}
        | ({"target_words": s.provenance.params["words"]} if s.provenance and "words" in s.provenance.params else {})
        for s in samples
    ]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def read_jsonl(path: Path) -> list[Sample]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Sample(text=r["text"], label=r["label"], attributes=r.get("attributes", {})) for r in rows]


def balanced_head(samples: list[Sample], n: int) -> list[Sample]:
    """The first samples of each label in turn, n in all."""
    by: dict[str, list[Sample]] = {}
    for s in samples:
        by.setdefault(str(s.label), []).append(s)
    out: list[Sample] = []
    while len(out) < min(n, len(samples)):
        for group in by.values():
            if group and len(out) < n:
                out.append(group.pop(0))
    return out


def job_meta(store: Any, result: Any, dataset: str) -> dict[str, Any]:
    dataset_id = store.dataset_id(dataset)
    every = store.samples(dataset_id, status=None)
    reasons = Counter(str(s.reason).split(":")[0][:60] for s in every if s.status == "rejected")
    accepted = [s for s in every if s.status == "accepted"]
    return {
        "status": result.status,
        "accepted": len(accepted),
        "rejected": result.rejected,
        "requests": result.requests,
        "seconds": round(result.seconds, 1),
        "seconds_per_accepted": round(result.seconds / max(1, len(accepted)), 2),
        "completion_tokens": result.completion_tokens,
        "rejections_by_reason": dict(reasons.most_common()),
        "labels": dict(Counter(str(s.label) for s in accepted)),
    }


async def run_job(store: Any, request: Any, backend: Any, minutes: float) -> tuple[list[Sample], dict[str, Any]]:
    """Run the request's job; past ``minutes`` it is cancelled (it keeps what it accepted)."""
    from sentiforge.app import jobs

    job_id = jobs.submit(store, request)
    started = time.perf_counter()

    async def stop_late() -> None:
        await asyncio.sleep(minutes * 60)
        jobs.cancel(store, job_id)

    stopper = asyncio.create_task(stop_late())
    try:
        result = await jobs.run(store, job_id, backend=backend)
    finally:
        stopper.cancel()
    meta = job_meta(store, result, request.dataset)
    meta["wall_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps({request.dataset: meta}), flush=True)
    return store.samples(store.dataset_id(request.dataset)), meta


def prepare_store(
    store: Any, name: str, seeds: list[Sample], pool: list[Sample], scheme_name: str, fake: bool, folder: Path
) -> dict[str, Any]:
    from sentiforge.app.unlabelled import ground_file

    seeds_id = store.create_dataset("seeds", get_scheme(scheme_name), kind="real")
    store.add_samples(seeds_id, [s.model_copy(update={"split": "train", "id": None}) for s in seeds])
    path = folder / "pool.jsonl"
    path.write_text("".join(json.dumps({"text": s.text}) + "\n" for s in pool), encoding="utf-8")
    started = time.perf_counter()
    grounded = ground_file(store, path, "pool", embedder="fake" if fake else "auto", scheme=scheme_name)
    path.unlink()
    return {
        "chunks": grounded.chunks,
        "clusters": len(grounded.clusters),
        "embedder": grounded.embedder,
        "seconds": round(time.perf_counter() - started, 1),
        "topics": [c["topic"] for c in grounded.clusters.values()],
    }


async def generate(args: argparse.Namespace) -> None:
    from sentiforge.app.requests import AugmentRequest, GenerateRequest
    from sentiforge.backends import from_spec
    from sentiforge.recipe import BackendSpec
    from sentiforge.store import Store

    fake = args.backend == "fake"
    name = args.dataset
    scheme, train, _ = real_split(name)
    scheme_name = scheme.name
    seeds, pool = stratified(train, 200, 0)
    folder = out_dir(name, fake)
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "store.db"
    db.unlink(missing_ok=True)
    own = {"json_mode": args.json_mode} if args.backend == "embedded" else {}  # the fake has no JSON mode
    spec = BackendSpec(kind=args.backend, model=args.model, **own)
    meta: dict[str, Any] = {
        "dataset": name,
        "backend": args.backend,
        "model": args.model,
        "count": args.count,
        "seeds": len(seeds),
        "pool": len(pool),
        "draw": 0,
        "json_mode": args.json_mode,
        "minutes_per_job": args.minutes,
    }
    with Store(f"sqlite:///{db}") as store:
        meta["grounding"] = prepare_store(store, name, seeds, pool, scheme_name, fake, folder)
        print(json.dumps({"grounding": meta["grounding"]}), flush=True)
        backend = from_spec(spec)
        common: dict[str, Any] = {
            "count": args.count,
            "scheme": scheme_name,
            "kind_of_text": KIND_OF_TEXT[name],
            "backend": spec,
            "seed": 0,
        }
        requests = {
            "today": GenerateRequest(
                dataset="today", seeds="seeds", few_shot=2, attributes={"domain": DOMAINS[name]}, **common
            ),
            "grounded": GenerateRequest(dataset="grounded", pool="pool", match_style=True, **common),
        }
        arms: dict[str, Any] = {}
        try:
            for arm in args.arms.split(","):
                if arm == "evolved":
                    continue
                samples, arms[arm] = await run_job(store, requests[arm], backend, args.minutes)
                write_jsonl(folder / f"{arm}.jsonl", samples)
            if "evolved" in args.arms.split(",") and (folder / "grounded.jsonl").exists():
                parents = balanced_head(read_jsonl(folder / "grounded.jsonl"), args.evolve)
                parents_id = store.create_dataset("parents", get_scheme(scheme_name), kind="synthetic")
                store.add_samples(parents_id, [s.model_copy(update={"split": "train"}) for s in parents])
                request = AugmentRequest(
                    dataset="evolutions", seeds="parents", strategies=["evolve"], per_seed=1, backend=spec, seed=0
                )
                evolutions, arms["evolutions"] = await run_job(
                    store, request, backend, args.minutes * args.evolve / args.count
                )
                write_jsonl(folder / "evolved.jsonl", parents + evolutions)
                arms["evolved"] = {
                    "parents": len(parents),
                    "evolutions": len(evolutions),
                    "by_evolution": dict(Counter(s.attributes.get("evolution") for s in evolutions)),
                }
        finally:
            await backend.aclose()
            meta["arms"] = arms
            (folder / "meta.json").write_text(json.dumps(meta, indent=1))
    db.unlink(missing_ok=True)


def minutes_until(until: str, args: argparse.Namespace) -> float:
    """Minutes per generation job so that every arm ends by ``until`` (UTC, today)."""
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    hour, minute = (int(x) for x in until.split(":"))
    left = (now.replace(hour=hour, minute=minute, second=0) - now).total_seconds() / 60 - 2  # grounding
    shares = sum(1.0 if arm != "evolved" else args.evolve / args.count for arm in args.arms.split(","))
    return max(1.0, left / shares)


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--dataset", default="tweets", choices=list(DATASETS))
    g.add_argument("--backend", default="embedded", choices=["embedded", "fake"])
    g.add_argument("--model", default="qwen2.5-1.5b")
    g.add_argument("--json-mode", default="auto")
    g.add_argument("--count", type=int, default=120)
    g.add_argument("--evolve", type=int, default=60)
    g.add_argument("--arms", default="today,grounded,evolved")
    g.add_argument("--minutes", type=float, default=20.0, help="a job still running after this is cancelled")
    g.add_argument("--until", help="HH:MM UTC: --minutes chosen so the arms end by then (evolution gets half)")
    e = sub.add_parser("evaluate")
    e.add_argument("--datasets", default="tweets,uci")
    e.add_argument("--draws", type=int, default=3)
    e.add_argument("--classifiers", default="tfidf,embedding")
    e.add_argument("--fake", action="store_true", help="evaluate the fake backend's sets (pipeline check)")
    e.add_argument("--out", default=str(HERE / "results_generation.json"))
    t = sub.add_parser("table", help="print the README's tables from a results file")
    t.add_argument("--results", default=str(HERE / "results_generation.json"))
    args = ap.parse_args()
    if args.command == "generate" and args.until:
        args.minutes = minutes_until(args.until, args)
    if args.command == "generate":
        asyncio.run(generate(args))
    elif args.command == "table":
        from gen_eval import tables

        print(tables(args.results))
    else:
        from gen_eval import evaluate

        evaluate(args)


if __name__ == "__main__":
    main()
