"""Time the baseline (TF-IDF + logistic regression): training plus evaluation on 10,000 samples.

Two real sets of 10,000 labelled sentences each (binary: VADER movie sentences; 3-class:
VADER tweets + Amazon + NYT sentences pooled), each split 80/20 (stratified, seeded).
One run = fit on the 8,000, then predict the 2,000, compute every metric and 1,000
bootstrap resamples of the headline numbers. Also timed: fitting on all 10,000.
Goal: under 30 s per run on this machine. Prints a JSON summary; the README keeps the figures.

    .venv/bin/python benchmarks/baseline_timing/run.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from typing import Any

import numpy as np

from sentiforge.classifiers import build_classifier, targets_of
from sentiforge.classifiers.base import encode_targets
from sentiforge.evaluation import metrics
from sentiforge.io.datasets import load_vader
from sentiforge.io.splits import dedupe, split_real
from sentiforge.labels import LabelScheme, get_scheme
from sentiforge.samples import Sample

N = 10_000


def datasets() -> dict[str, tuple[list[Sample], LabelScheme]]:
    binary = get_scheme("binary")
    three = get_scheme("three_class")
    pooled = [s for name in ("tweets", "amazon", "nyt") for s in load_vader(name, three)]
    rng = np.random.default_rng(0)
    pick = lambda xs: [xs[i] for i in sorted(rng.choice(len(xs), N, replace=False))]  # noqa: E731
    return {
        "movies-binary": (pick(dedupe(load_vader("movies", binary))), binary),
        "vader-3class": (pick(dedupe(pooled)), three),
    }


def one_run(samples: list[Sample], scheme: LabelScheme) -> dict[str, float]:
    train, test = split_real(samples, holdout=0.2, seed=0)
    started, cpu = time.perf_counter(), time.process_time()
    clf = build_classifier("tfidf", scheme)
    clf.fit([s.text for s in train], targets_of(train, scheme))
    fitted = time.perf_counter()
    texts = [s.text for s in test]
    y = encode_targets(targets_of(test, scheme), scheme)
    pred = encode_targets(clf.predict(texts), scheme)
    scores = metrics.scores(y, pred, clf.predict_proba(texts), scheme)
    boot = metrics.bootstrap(y, [pred], metrics.metric_fn("macro_f1", scheme), n=1000)
    lo, hi = metrics.interval(boot[:, 0])
    done, cpu_done = time.perf_counter(), time.process_time()
    full = build_classifier("tfidf", scheme)
    t0 = time.perf_counter()
    full.fit([s.text for s in samples], targets_of(samples, scheme))
    full_fit = time.perf_counter() - t0
    return {
        "fit_8000_s": fitted - started,
        "evaluate_2000_s": done - fitted,
        "total_s": done - started,
        "total_cpu_s": cpu_done - cpu,
        "fit_10000_s": full_fit,
        "macro_f1": scores["macro_f1"],
        "macro_f1_ci": [lo, hi],
        "accuracy": scores["accuracy"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    out: dict[str, Any] = {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "load_before": os.getloadavg()}
    for name, (samples, scheme) in datasets().items():
        runs = [one_run(samples, scheme) for _ in range(args.repeats)]
        totals = [r["total_s"] for r in runs]
        out[name] = {
            "samples": len(samples),
            "total_s_median": statistics.median(totals),
            "total_s_min": min(totals),
            "total_cpu_s_median": statistics.median(r["total_cpu_s"] for r in runs),
            "fit_8000_s_median": statistics.median(r["fit_8000_s"] for r in runs),
            "evaluate_2000_s_median": statistics.median(r["evaluate_2000_s"] for r in runs),
            "fit_10000_s_median": statistics.median(r["fit_10000_s"] for r in runs),
            "macro_f1": runs[0]["macro_f1"],
            "macro_f1_ci": runs[0]["macro_f1_ci"],
            "accuracy": runs[0]["accuracy"],
        }
    out["load_after"] = os.getloadavg()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
