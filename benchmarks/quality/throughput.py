"""Dedup throughput: N short texts through exact + MinHash-LSH dedup, wall time and peak RSS.

    .venv/bin/python benchmarks/quality/throughput.py [--n 1000000] [--dup-share 0.1]

Texts join three fragments (3-7 words each) of three random real sentences (so: short,
mostly distinct, real vocabulary),
and ``--dup-share`` of them are planted near-copies (one edit of an earlier text) or exact
copies. The checks are the gate's own (ExactDedupCheck, NearDupCheck) fed in batches of
10,000 as the gate feeds them. The embedding check is not in this figure: MiniLM encodes
~500 sentences/s on 2 cores, so 1M texts take ~35 min of encoding alone (see README).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import time
from pathlib import Path

from planted import EDITS, near_copy, real_sentences  # type: ignore[import-not-found]

from sentiforge.quality.dedup import ExactDedupCheck, NearDupCheck
from sentiforge.samples import Sample

HERE = Path(__file__).resolve().parent


def make_texts(n: int, dup_share: float, seed: int) -> tuple[list[str], int]:
    rng = random.Random(seed)
    words = [s.split() for s in real_sentences(min_words=6)]
    kinds = list(EDITS)
    out: list[str] = []
    planted = 0
    for i in range(n):
        if i > 100 and rng.random() < dup_share:
            src = out[rng.randrange(len(out))]
            out.append(src if rng.random() < 0.3 else near_copy(src, rng.choice(kinds), rng))
            planted += 1
            continue
        parts = []
        for _ in range(3):  # three fragments of three real sentences: short, varied, mostly distinct
            w = rng.choice(words)
            size = rng.randint(3, 7)
            start = rng.randrange(max(1, len(w) - size + 1))
            parts.append(" ".join(w[start : start + size]))
        out.append(" ".join(parts))
    return out, planted


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--dup-share", type=float, default=0.1)
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--batch", type=int, default=10_000)
    args = ap.parse_args()
    t0 = time.time()
    texts, planted = make_texts(args.n, args.dup_share, seed=0)
    made = time.time() - t0
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    exact, near = ExactDedupCheck(), NearDupCheck(args.threshold)
    rejected = {"exact_dup": 0, "near_dup": 0}
    t1 = time.time()
    cpu0 = time.process_time()
    for s in range(0, len(texts), args.batch):
        batch = [Sample(text=t) for t in texts[s : s + args.batch]]
        first = exact.run(batch)
        rejected["exact_dup"] += sum(r.verdict == "reject" for r in first)
        alive = [b for b, r in zip(batch, first, strict=True) if r.verdict != "reject"]
        rejected["near_dup"] += sum(r.verdict == "reject" for r in near.run(alive))
        if (s // args.batch) % 10 == 0:
            print(f"{s + len(batch)} texts, {time.time() - t1:.0f}s", flush=True)
    seconds = time.time() - t1
    cpu = time.process_time() - cpu0  # on a shared machine wall time includes waiting for a core
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {
        "n": args.n,
        "planted_duplicates": planted,
        "rejected": rejected,
        "threshold": args.threshold,
        "lsh_bands_rows": [near.index.lsh.b, near.index.lsh.r],
        "seconds_dedup": round(seconds, 1),
        "cpu_seconds_dedup": round(cpu, 1),
        "seconds_making_texts": round(made, 1),
        "texts_per_second": round(args.n / seconds),
        "peak_rss_mb": round(peak),
        "rss_before_dedup_mb": round(rss_before),
        "load_average_at_end": [round(x, 2) for x in __import__("os").getloadavg()],
    }
    print(json.dumps(result, indent=1))
    out = HERE / "results" / f"throughput_{args.n}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
