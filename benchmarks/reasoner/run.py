"""The reasoner on VADER tweets (3-class): trained on synthetic tweets with rationales from the
embedded 1.5B model, against the MiniLM embedding classifier and the fine-tuned MiniLM trained
on the same synthetic tweets, all scored on the real holdout.

Step 1 (generation, resumable, stored in its own SQLite store):

    flock /tmp/sentiforge-model.lock env PYTHONPATH=src python benchmarks/reasoner/run.py generate --count 90

Step 2 (training and scoring; ``--device cuda`` on a GPU machine):

    flock /tmp/sentiforge-model.lock env PYTHONPATH=src python benchmarks/reasoner/run.py score \\
        --holdout 150 --base-model gemma-3-270m --out benchmarks/reasoner/results-cpu.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tstr"))

from generate import SETS, build_recipe, real_dataset

from sentiforge.classifiers import train
from sentiforge.classifiers.base import encode_targets, targets_of
from sentiforge.errors import StoreError
from sentiforge.evaluation.metrics import scores
from sentiforge.labels import get_scheme
from sentiforge.store import Store

DB = f"sqlite:///{Path.home() / '.sentiforge' / 'bench' / 'reasoner.db'}"
SYNTH = "synth-tweets-rationales"


def generate(count: int, db: str) -> None:
    from sentiforge.app.jobs import create_job, resume_job

    Path(db.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    store = Store(db)
    real, labels = real_dataset(store, "tweets", SETS["tweets"], seed=0)
    job_id = next((j.id for j in store.list_jobs() if j.dataset_id == _maybe_id(store, SYNTH)), None)
    if job_id is None:
        recipe = build_recipe("tweets", SETS["tweets"], real, labels, count, "qwen2.5-1.5b", True)
        recipe.steps[0].params["rationale"] = True
        job_id = create_job(store, recipe, SYNTH)
    started = time.perf_counter()
    result = asyncio.run(resume_job(store, job_id))
    print(f"{result}; {time.perf_counter() - started:.0f} s", flush=True)


def _maybe_id(store: Store, name: str) -> int | None:
    try:
        return store.dataset_id(name)
    except StoreError:
        return None


def synthetic_and_holdout(db: str, n_hold: int) -> tuple[list[Any], list[Any]]:
    store = Store(db)
    synthetic = [s for s in store.iter_samples(store.dataset_id(SYNTH)) if s.status == "accepted"]
    holdout = list(store.iter_samples(store.dataset_id("real-tweets"), split="holdout"))[:n_hold]
    return synthetic, holdout


def score(kind: str, synthetic: list[Any], holdout: list[Any], params: dict[str, Any]) -> dict[str, Any]:
    scheme = get_scheme("three_class")
    started = time.perf_counter()
    clf = train(synthetic, scheme, kind, **params)
    trained = time.perf_counter() - started
    texts = [s.text for s in holdout]
    y = encode_targets(targets_of(holdout, scheme), scheme)
    out: dict[str, Any] = {"train_seconds": round(trained, 1)}
    if hasattr(clf, "predict_with_rationale"):
        answers = clf.predict_with_rationale(texts)
        pred, proba = [a.label for a in answers], [[a.scores[k] for k in scheme.labels] for a in answers]
        out["examples"] = [
            {"text": s.text, "truth": s.label, "predicted": a.label, "rationale": a.rationale}
            for s, a in list(zip(holdout, answers, strict=True))[:8]
        ]
        out["training"] = clf.info.metrics.get("training", {})
    else:
        pred, proba = clf.predict(texts), clf.predict_proba(texts).tolist()
    import numpy as np

    s = scores(y, encode_targets(pred, scheme), np.asarray(proba), scheme)
    out |= {k: s[k] for k in ("macro_f1", "accuracy", "kappa") if k in s}
    out["predict_seconds"] = round(time.perf_counter() - started - trained, 1)
    print(json.dumps({kind: {k: v for k, v in out.items() if k != "examples"}}), flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("step", choices=["generate", "score"])
    ap.add_argument("--count", type=int, default=90)
    ap.add_argument("--holdout", type=int, default=150)
    ap.add_argument("--base-model", default="gemma-3-270m")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--device", default=None)
    ap.add_argument("--kinds", nargs="+", default=["embedding", "transformer", "reasoner"])
    ap.add_argument("--db", default=DB)
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("results-cpu.json"))
    a = ap.parse_args()
    if a.step == "generate":
        generate(a.count, a.db)
        return
    synthetic, holdout = synthetic_and_holdout(a.db, a.holdout)
    params = {
        "embedding": {},
        "transformer": {"epochs": 3},
        # a few dozen samples: one optimizer step per micro-batch of 4, or there would be 3 steps an epoch
        "reasoner": {"base_model": a.base_model, "epochs": a.epochs, "grad_accum": 1, "device": a.device},
    }
    results = {k: score(k, synthetic, holdout, params[k]) for k in a.kinds}
    meta = {"synthetic": len(synthetic), "with_rationale": sum(bool(s.rationale) for s in synthetic)}
    a.out.write_text(json.dumps({"meta": meta | {"holdout": len(holdout)}, **results}, indent=2))


if __name__ == "__main__":
    main()
