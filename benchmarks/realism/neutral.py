"""Neutral texts that hold (issue #12): the three-class label descriptions, A/B on the model.

The generator's prompt and the judge's read a label's description (``LabelScheme.descriptions``).
Without one, the 1.5B model asked for a "neutral" tweet writes a mild opinion that the inline
judge reads as polar, so generated three-class sets came out nearly two-class. This script
measures both sides with and without the descriptions:

1. the judge alone on real VADER tweets (the first ``--judge`` of
   ``benchmarks/quality/judge_tweets.py``'s evaluation ids): accuracy, neutral precision and
   recall (the "without" answers are that script's cached run when it covers the ids);
2. generation from scratch (``GenerateRequest``, tweets, balanced quota, inline judge on):
   accepted per label, rejections, seconds per accepted sample, each arm time-boxed.

    flock /tmp/sentiforge-model.lock .venv/bin/python benchmarks/realism/neutral.py \
        --judge 150 --count 30 --minutes 6

Results go to ``neutral.json`` beside this file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "quality"))

from gen_arms import run_job  # noqa: E402
from judge_tweets import eval_ids  # noqa: E402

from sentiforge.labels import LabelScheme, get_scheme  # noqa: E402

KIND = "tweet (informal, may use slang, abbreviations, hashtags or emoticons)"


def schemes() -> dict[str, LabelScheme]:
    described = get_scheme("three_class")
    bare = described.model_copy(update={"descriptions": {}, "translations": {}})
    return {"without": bare, "with": described}


def judge_scores(answers: dict[int, str | None], truth: dict[int, str]) -> dict[str, Any]:
    ids = list(answers)
    said_neutral = [i for i in ids if answers[i] == "neutral"]
    real_neutral = [i for i in ids if truth[i] == "neutral"]
    hit = sum(truth[i] == "neutral" for i in said_neutral)
    return {
        "n": len(ids),
        "accuracy": round(sum(answers[i] == truth[i] for i in ids) / len(ids), 3),
        "neutral_precision": round(hit / len(said_neutral), 3) if said_neutral else None,
        "neutral_recall": round(hit / len(real_neutral), 3) if real_neutral else None,
        "answers": dict(Counter(str(answers[i]) for i in ids)),
        "truth": dict(Counter(truth[i] for i in ids)),
    }


async def judge_part(client: Any, limit: int) -> dict[str, Any]:
    from sentiforge.io.datasets import load_vader
    from sentiforge.quality.consistency import LabelJudge

    tweets = {int(s.attributes["id"]): s for s in load_vader("tweets", "three_class")}
    ids = eval_ids(list(tweets))[:limit]
    truth = {i: str(tweets[i].label) for i in ids}
    cached_path = HERE.parent / "quality" / "results" / "judge_qwen2.5-1.5b.json"
    cached = json.loads(cached_path.read_text())["answers"] if cached_path.exists() else {}
    out: dict[str, Any] = {}
    for name, scheme in schemes().items():
        started = time.perf_counter()
        if name == "without" and all(str(i) in cached for i in ids):
            answers = {i: cached[str(i)] for i in ids}
            source = str(cached_path.relative_to(HERE.parent.parent))
        else:
            judged = await LabelJudge(client, scheme).ajudge_many([tweets[i].text for i in ids])
            answers = dict(zip(ids, judged, strict=True))
            source = "this run"
        out[name] = judge_scores(answers, truth) | {"source": source, "seconds": round(time.perf_counter() - started)}
        print(json.dumps({"judge": {name: out[name]}}), flush=True)
    return out


async def generate_part(spec: Any, backend: Any, count: int, minutes: float) -> dict[str, Any]:
    from sentiforge.app.requests import GenerateRequest
    from sentiforge.store import Store

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp, Store(f"sqlite:///{tmp}/neutral.db") as store:
        for name, scheme in schemes().items():
            request = GenerateRequest(
                dataset=f"gen-{name}",
                count=count,
                scheme=scheme.model_dump(),
                kind_of_text=KIND,
                backend=spec,
                seed=0,
            )
            samples, meta = await run_job(store, request, backend, minutes)
            every = store.samples(store.dataset_id(request.dataset), status=None)
            meta["judged_as"] = dict(
                Counter(f"{s.label}->{str(s.reason).split('judge: ')[-1].rstrip(')')}" for s in every if s.reason)
            )
            meta["examples"] = {label: [s.text for s in samples if s.label == label][:3] for label in scheme.labels}
            out[name] = meta
    return out


def main() -> None:
    from sentiforge.backends import LLMClient, from_spec
    from sentiforge.recipe import BackendSpec

    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="qwen2.5-1.5b")
    ap.add_argument("--judge", type=int, default=150, help="real tweets the judge reads (0: skip)")
    ap.add_argument("--count", type=int, default=30, help="samples per generation arm (0: skip)")
    ap.add_argument("--minutes", type=float, default=6.0, help="time box of each generation arm")
    ap.add_argument("--json-mode", default="none")
    ap.add_argument("--out", default=str(HERE / "neutral.json"))
    args = ap.parse_args()
    spec = BackendSpec(kind="embedded", model=args.model, json_mode=args.json_mode)
    backend = from_spec(spec)
    result: dict[str, Any] = {"model": args.model, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}

    async def run() -> None:
        try:
            if args.judge:
                result["judge"] = await judge_part(LLMClient(backend), args.judge)
            if args.count:
                result["generate"] = await generate_part(spec, backend, args.count, args.minutes)
        finally:
            await backend.aclose()

    asyncio.run(run())
    Path(args.out).write_text(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
