"""What quality-over-time and input drift cost: a summary's text measures (300 texts and 300
seeds) and an input-drift report (1,000 reference tweets, a window of 500), with the n-gram
measures and with MiniLM; plus the shifts they report for in-domain and off-domain windows.

    flock /tmp/sentiforge-model.lock env PYTHONPATH=src python benchmarks/drift/bench_drift.py
"""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path
from typing import Any

from sentiforge.embeddings import get_embedder
from sentiforge.io.datasets import load_uci, load_vader
from sentiforge.quality.drift import InputDrift
from sentiforge.quality.summary import text_measures

OUT = Path(__file__).with_name("results.json")


def timed(fn: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    value = fn()
    return value, round(time.perf_counter() - start, 3)


def main() -> None:
    tweets = load_vader("tweets", "three_class")
    random.Random(0).shuffle(tweets)
    ref = tweets[:1000]
    held = [s.text for s in tweets[2000:2500]]
    yelp = [s.text for s in load_uci("yelp")[:500]]
    results: dict[str, Any] = {"load_average": os.getloadavg()[0]}
    for name in ("none", "minilm"):
        embedder = None if name == "none" else get_embedder("minilm")
        if embedder is not None:
            embedder.encode(["warm up"])  # the model's load is not what a summary costs
        summary, seconds = timed(lambda e=embedder: text_measures(held, [s.text for s in ref], e))
        results[f"summary_{name}"] = {"seconds": seconds, **summary}
        drift = InputDrift([s.text for s in ref], [s.label for s in ref], window=500, embedder=embedder)
        for window_name, window in (("tweets", held), ("yelp", yelp)):
            drift.observe(window)  # 500 texts: the whole window
            report, first = timed(drift.report)  # embeds the window (and the reference, the first time)
            _, again = timed(drift.report)  # nothing new to embed
            results[f"drift_{name}_{window_name}"] = {"first_report_s": first, "next_report_s": again, **report}
    OUT.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
