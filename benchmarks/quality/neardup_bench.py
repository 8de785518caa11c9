"""Near-duplicate precision and recall on planted copies of real sentences, per threshold.

    .venv/bin/python benchmarks/quality/neardup_bench.py [--base 5000] [--planted 900] [--embedder minilm]

1. Base: ``--base`` real sentences (>= 5 words) drawn at random from all shared sets, with
   exact copies and natural near-copies removed (exact character-5-gram Jaccard >= 0.4 to
   an earlier one, found with a permissive MinHash index and checked exactly), so every
   lexical duplicate in the set is planted. Real sentences that merely mean much the same
   stay in: an embedding threshold that flags them pays for it in precision.
2. Planted: ``--planted`` near-copies, an equal share of each edit kind in planted.py, each
   placed after its original at a random later position.
3. The dedup checks run over the stream (as the gate runs them) for each threshold; a
   planted copy rejected by any of them is a true positive, a base sentence rejected a false one.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from planted import EDITS, near_copy, real_sentences  # type: ignore[import-not-found]

from sentiforge.quality.dedup import ExactDedupCheck, MinHasher, MinHashIndex, NearDupCheck, SemanticDupCheck
from sentiforge.samples import Sample, normalize_text

HERE = Path(__file__).resolve().parent


def shingles(text: str, k: int = 5) -> set[str]:
    t = normalize_text(text)
    return {t[i : i + k] for i in range(max(1, len(t) - k + 1))}


def clean_base(texts: list[str], embedder: Any, cosine: float | None) -> list[str]:
    """Drop sentences that are natural near-copies of an earlier one (see module docstring)."""
    index = MinHashIndex(0.3, MinHasher(64, 5))
    sigs = index.hasher.signatures([normalize_text(t) for t in texts])
    kept: list[str] = []
    kept_sets: list[set[str]] = []
    for text, sig in zip(texts, sigs, strict=True):
        own = shingles(text)
        candidates = index.lsh.query(index.hasher.lean(sig))
        if any(len(own & kept_sets[k]) / len(own | kept_sets[k]) >= 0.4 for k in candidates):
            continue
        index.add(sig, len(kept))
        kept.append(text)
        kept_sets.append(own)
    if embedder is None or cosine is None:
        return kept
    vectors = embedder.encode(kept)
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, 0)
    keep = [i for i in range(len(kept)) if not (sims[i, :i] >= cosine).any()]
    return [kept[i] for i in keep]


def build(
    base_n: int, planted_n: int, seed: int, embedder: Any, clean_cosine: float | None
) -> tuple[list[Sample], dict[int, str]]:
    rng = random.Random(seed)
    pool = real_sentences()
    rng.shuffle(pool)
    base = clean_base(pool[: int(base_n * 1.1)], embedder, clean_cosine)[:base_n]
    stream: list[Sample] = [Sample(text=t, attributes={"kind": "base"}) for t in base]
    kinds = list(EDITS)
    for k in range(planted_n):
        src = rng.randrange(len(base))
        kind = kinds[k % len(kinds)]
        text = near_copy(base[src], kind, rng)
        stream.insert(
            rng.randint(stream.index(next(s for s in stream if s.text == base[src])) + 1, len(stream)),
            Sample(text=text, attributes={"kind": kind}),
        )
    truth = {i: str(s.attributes["kind"]) for i, s in enumerate(stream)}
    return stream, truth


def evaluate(stream: list[Sample], truth: dict[int, str], checks: list[Any]) -> dict[str, Any]:
    verdicts = ["pass"] * len(stream)
    alive = list(range(len(stream)))
    for check in checks:
        for s in range(0, len(alive), 1000):
            part = alive[s : s + 1000]
            for i, r in zip(part, check.run([stream[i] for i in part]), strict=True):
                if r.verdict == "reject":
                    verdicts[i] = "reject"
        alive = [i for i in alive if verdicts[i] != "reject"]
    planted = [i for i, k in truth.items() if k != "base"]
    tp = sum(verdicts[i] == "reject" for i in planted)
    fp = sum(verdicts[i] == "reject" for i, k in truth.items() if k == "base")
    per_kind = Counter(truth[i] for i in planted if verdicts[i] == "reject")
    totals = Counter(truth[i] for i in planted)
    return {
        "precision": round(tp / max(1, tp + fp), 4),
        "recall": round(tp / len(planted), 4),
        "tp": tp,
        "fp": fp,
        "recall_by_kind": {k: round(per_kind[k] / totals[k], 3) for k in sorted(totals)},
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", type=int, default=5000)
    ap.add_argument("--planted", type=int, default=900)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--embedder", default="minilm", help="minilm, multilingual, fake or none")
    ap.add_argument(
        "--clean-cosine",
        type=float,
        default=None,
        help="also drop base sentences this close (cosine) to an earlier one; off by default, because "
        "it makes every cosine threshold above it trivially precise",
    )
    args = ap.parse_args()
    embedder = None
    if args.embedder != "none":
        from sentiforge.embeddings import get_embedder
        from sentiforge.quality.gate import BatchEmbeddings

        embedder = BatchEmbeddings(get_embedder(args.embedder))  # encodes each text once for all runs
    start = time.time()
    stream, truth = build(args.base, args.planted, args.seed, embedder, args.clean_cosine)
    if embedder is not None:
        embedder.encode([s.text for s in stream])
    print(f"built {len(stream)} texts in {time.time() - start:.0f}s", flush=True)
    results: dict[str, Any] = {"base": args.base, "planted": args.planted, "seed": args.seed, "embedder": args.embedder}
    results["exact"] = evaluate(stream, truth, [ExactDedupCheck()])
    for th in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        results[f"exact+minhash@{th}"] = evaluate(stream, truth, [ExactDedupCheck(), NearDupCheck(th)])
        print(th, results[f"exact+minhash@{th}"], flush=True)
    if embedder is not None:
        for cos in (0.8, 0.85, 0.88, 0.9, 0.92, 0.95, 0.97, 0.98):
            only = evaluate(stream, truth, [ExactDedupCheck(), SemanticDupCheck(embedder, cos)])
            both = evaluate(stream, truth, [ExactDedupCheck(), NearDupCheck(0.5), SemanticDupCheck(embedder, cos)])
            results[f"exact+embedding@{cos}"] = only
            results[f"exact+minhash@0.5+embedding@{cos}"] = both
            print(cos, only, both, flush=True)
    suffix = f"_clean{args.clean_cosine}" if args.clean_cosine else ""
    out = HERE / "results" / f"neardup_{args.embedder}{suffix}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    print(f"wrote {out} in {time.time() - start:.0f}s")


if __name__ == "__main__":
    main()
