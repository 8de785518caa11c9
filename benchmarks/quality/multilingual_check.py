"""A small check of the multilingual embedder's cosine scale (multilingual-e5-small).

    .venv/bin/python benchmarks/quality/multilingual_check.py

60 real sentences and one planted near-copy of each (the edit kinds of planted.py): the
cosine of each copy to its original, and of the 1,770 pairs of distinct originals. Small,
because the model encodes ~40 sentences/s on 2 idle cores; it sets the default threshold,
it does not measure precision at scale.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
from planted import EDITS, near_copy, real_sentences  # type: ignore[import-not-found]

from sentiforge.embeddings import get_embedder

HERE = Path(__file__).resolve().parent


def main() -> None:
    rng = random.Random(0)
    pool = real_sentences()
    rng.shuffle(pool)
    base = pool[:60]
    kinds = list(EDITS)
    copies = [near_copy(t, kinds[i % len(kinds)], rng) for i, t in enumerate(base)]
    vectors = get_embedder("multilingual").encode(base + copies)
    a, b = vectors[:60], vectors[60:]
    pairs = (a * b).sum(axis=1)
    distinct = (a @ a.T)[np.triu_indices(60, 1)]
    out = {
        "copies_cosine": {
            "min": float(pairs.min()),
            "p10": float(np.percentile(pairs, 10)),
            "median": float(np.median(pairs)),
        },
        "distinct_cosine": {
            "median": float(np.median(distinct)),
            "p99": float(np.percentile(distinct, 99)),
            "max": float(distinct.max()),
        },
        "by_threshold": {
            str(th): {"copies_found": float((pairs >= th).mean()), "distinct_pairs_over": int((distinct >= th).sum())}
            for th in (0.9, 0.93, 0.95, 0.97)
        },
    }
    print(json.dumps(out, indent=1))
    (HERE / "results" / "multilingual_check.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
