"""Contrastive (SetFit-style) fine-tuning against the MiniLM embedding classifier, with 200 real
seeds and with the same seeds plus an augmented variant of each, on a real holdout.

Augmentation: Apertium round trip through Spanish (eng -> spa -> eng), the offline augmenter
that needs no LLM; each variant records its seed as ``provenance.parent_id``, so the
contrastive classifier draws it as the seed's positive pair. Several draws of the seeds; the
gain of augmentation for each classifier with a t-interval over the draws.

    flock /tmp/sentiforge-model.lock env PYTHONPATH=src python benchmarks/contrastive/run.py \\
        --draws 3 --holdout 600 --out benchmarks/contrastive/results.json

Draws already in draws.jsonl are read back, not rerun (a stopped run resumes with the next).
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np

from sentiforge.classifiers import train
from sentiforge.evaluation.metrics import scores
from sentiforge.io.datasets import load_uci, load_vader
from sentiforge.io.splits import split_real
from sentiforge.labels import get_scheme
from sentiforge.samples import Provenance, Sample

DRAWS = Path(__file__).with_name("draws.jsonl")
T95 = {1: 12.71, 2: 4.30, 3: 3.18, 4: 2.78, 5: 2.57, 6: 2.45, 7: 2.36, 8: 2.31, 9: 2.26}


def round_trip(texts: list[str]) -> list[str]:
    """eng -> spa -> eng with Apertium, one line per text (newlines inside a text become spaces)."""
    joined = "\n".join(t.replace("\n", " ") for t in texts)
    there = subprocess.run(["apertium", "-u", "eng-spa"], input=joined, capture_output=True, text=True, check=True)
    back = subprocess.run(["apertium", "-u", "spa-eng"], input=there.stdout, capture_output=True, text=True, check=True)
    lines = back.stdout.rstrip("\n").split("\n")
    if len(lines) != len(texts):
        raise RuntimeError(f"apertium returned {len(lines)} lines for {len(texts)} texts")
    return [line.strip() for line in lines]


def draw_seeds(pool: list[Sample], n: int, labels: list[str], rng: np.random.Generator) -> list[Sample]:
    """n seeds, as even across labels as the pool allows, each with an id for its variants."""
    per = n // len(labels)
    out = []
    for label in labels:
        items = [s for s in pool if s.label == label]
        out += [items[i] for i in rng.choice(len(items), size=min(per, len(items)), replace=False)]
    return [s.model_copy(update={"id": i}) for i, s in enumerate(out)]


def augmented(seeds: list[Sample]) -> list[Sample]:
    variants = round_trip([s.text for s in seeds])
    return [
        Sample(text=v, label=s.label, provenance=Provenance(strategy="backtranslate-apertium", parent_id=s.id))
        for s, v in zip(seeds, variants, strict=True)
        if v and v.lower() != s.text.lower()
    ]


def fit_score(kind: str, data: list[Sample], holdout: list[Sample], scheme: Any) -> dict[str, Any]:
    from sentiforge.classifiers.base import encode_targets, targets_of

    started = time.perf_counter()
    clf = train(data, scheme, kind)
    minutes = (time.perf_counter() - started) / 60
    texts = [s.text for s in holdout]
    y = encode_targets(targets_of(holdout, scheme), scheme)
    s = scores(y, encode_targets(clf.predict(texts), scheme), clf.predict_proba(texts), scheme)
    return {"macro_f1": s["macro_f1"], "accuracy": s["accuracy"], "train_minutes": round(minutes, 2), "n": len(data)}


def load() -> float:
    """The 1-minute load average when the draw started (the machine is shared)."""
    return round(float(Path("/proc/loadavg").read_text().split()[0]), 2)


def interval(values: list[float]) -> dict[str, float]:
    a = np.asarray(values, dtype=float)
    half = T95.get(len(a) - 1, 2.0) * a.std(ddof=1) / math.sqrt(len(a)) if len(a) > 1 else float("nan")
    return {"mean": float(a.mean()), "low": float(a.mean() - half), "high": float(a.mean() + half)}


def finished_draws(name: str) -> dict[int, dict[str, Any]]:
    """The draws of this dataset already in draws.jsonl (a rerun does only the missing ones)."""
    if not DRAWS.is_file():
        return {}
    rows = [json.loads(line) for line in DRAWS.read_text().splitlines() if line.strip()]
    return {r[name]["draw"]: r[name] for r in rows if name in r}


def run_dataset(name: str, draws: int, n_seeds: int, n_hold: int) -> dict[str, Any]:
    scheme = get_scheme("three_class" if name == "vader:tweets" else "binary")
    real = load_vader("tweets", scheme) if name == "vader:tweets" else load_uci("yelp")
    pool, holdout = split_real(real, holdout=0.3, seed=101)
    holdout = holdout[:n_hold]
    runs = []
    done = finished_draws(name)
    for d in range(draws):
        if d in done:
            runs.append(done[d])
            continue
        seeds = draw_seeds(pool, n_seeds, scheme.labels, np.random.default_rng(1000 + d))
        extra = augmented(seeds)
        row: dict[str, Any] = {"draw": d, "seeds": len(seeds), "augmented": len(extra), "load": load()}
        for kind in ("embedding", "contrastive"):
            row[kind] = {"seeds": fit_score(kind, seeds, holdout, scheme)}
            row[kind]["seeds+aug"] = fit_score(kind, seeds + extra, holdout, scheme)
        print(json.dumps({name: row}), flush=True)
        with DRAWS.open("a") as f:  # every finished draw survives a stopped run
            f.write(json.dumps({name: row}) + "\n")
        runs.append(row)
    summary = {
        kind: {setting: interval([r[kind][setting]["macro_f1"] for r in runs]) for setting in ("seeds", "seeds+aug")}
        | {"gain": interval([r[kind]["seeds+aug"]["macro_f1"] - r[kind]["seeds"]["macro_f1"] for r in runs])}
        | {
            "minutes_per_training": float(
                np.mean([r[kind][s]["train_minutes"] for r in runs for s in ("seeds", "seeds+aug")])
            )
        }
        for kind in ("embedding", "contrastive")
    }
    summary["contrastive - embedding"] = {
        setting: interval([r["contrastive"][setting]["macro_f1"] - r["embedding"][setting]["macro_f1"] for r in runs])
        for setting in ("seeds", "seeds+aug")
    }
    return {"scheme": scheme.name, "holdout": len(holdout), "runs": runs, "summary": summary}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=3)
    ap.add_argument("--seeds", type=int, default=200)
    ap.add_argument("--holdout", type=int, default=600)
    ap.add_argument("--datasets", nargs="+", default=["vader:tweets", "uci:yelp"])
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("results.json"))
    a = ap.parse_args()
    started = time.perf_counter()
    results = {name: run_dataset(name, a.draws, a.seeds, a.holdout) for name in a.datasets}
    results["meta"] = {"draws": a.draws, "seeds": a.seeds, "minutes": round((time.perf_counter() - started) / 60, 1)}
    a.out.write_text(json.dumps(results, indent=2))
    print(json.dumps({k: v["summary"] for k, v in results.items() if k != "meta"}, indent=2))


if __name__ == "__main__":
    main()
