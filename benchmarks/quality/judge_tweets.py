"""Run the label-constrained LLM judge over a fixed subsample of VADER tweets (3-class).

The judge sees only the text, so its answers do not depend on which labels get flipped:
they are computed once here (answers cached in a SQLite response cache, so a rerun is free)
and written to results/judge_<model>.json for ``consistency_bench.py``.

    .venv/bin/python benchmarks/quality/judge_tweets.py --model qwen2.5-1.5b [--limit 1000]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPLIT_SEED = 13
EVAL_SIZE = 1000  # the first 400 of the shuffled ids are the dev part, the next 600 the test part


def eval_ids(all_ids: list[int]) -> list[int]:
    ids = sorted(all_ids)
    random.Random(SPLIT_SEED).shuffle(ids)
    return ids[:EVAL_SIZE]


def main() -> None:
    from sentiforge.backends import LLMClient, from_spec
    from sentiforge.io.datasets import load_vader
    from sentiforge.labels import get_scheme
    from sentiforge.quality.consistency import LabelJudge
    from sentiforge.recipe import BackendSpec
    from sentiforge.store import Store

    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="qwen2.5-1.5b")
    ap.add_argument("--limit", type=int, default=EVAL_SIZE)
    ap.add_argument("--chunk", type=int, default=20)
    args = ap.parse_args()

    scheme = get_scheme("three_class")
    tweets = {s.attributes["id"]: s for s in load_vader("tweets", scheme)}
    ids = eval_ids(list(tweets))[: args.limit]
    (HERE / "results").mkdir(exist_ok=True)
    store = Store(f"sqlite:///{HERE / 'results' / 'judge_cache.db'}")
    backend = from_spec(BackendSpec(kind="embedded", model=args.model, n_ctx=1024))
    cache = store.cache(backend.key)
    judge = LabelJudge(LLMClient(backend, cache=cache), scheme)
    out: dict[str, str | None] = {}
    start = time.time()
    for k in range(0, len(ids), args.chunk):
        chunk = ids[k : k + args.chunk]
        answers = judge.judge_many([tweets[i].text for i in chunk])
        cache.flush()
        out.update({str(i): a for i, a in zip(chunk, answers, strict=True)})
        done = k + len(chunk)
        acc = sum(out[str(i)] == tweets[i].label for i in ids[:done]) / done
        print(f"{done}/{len(ids)} {time.time() - start:.0f}s acc={acc:.3f}", file=sys.stderr, flush=True)
    payload = {"model": args.model, "seconds": round(time.time() - start, 1), "answers": out}
    (HERE / "results" / f"judge_{args.model}.json").write_text(json.dumps(payload, indent=0))


if __name__ == "__main__":
    main()
