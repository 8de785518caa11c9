"""The label judge on real text: uncalibrated vs calibrated, per label (issue #19).

For each model and scheme: the judge scores every text of the calibration set (the packaged
set of the scheme's kind, ``calibration_texts``: 40 texts a label, seed 0) and of an
evaluation set the calibration never saw (three_class: the first 150 of
``benchmarks/quality/judge_tweets.py``'s VADER tweet ids, the ids ``benchmarks/realism/neutral.py``
reported 0.72 accuracy on; binary: 150 UCI sentences), fits the offsets on the calibration set
and reports, on the evaluation set, accuracy, balanced accuracy and each label's precision and
recall with the offsets and without them. ``--write-packaged`` stores each calibration
in src/sentiforge/quality/calibrations/ (the calibration sentiforge ships for that model).

    flock /tmp/sentiforge-model.lock .venv/bin/python benchmarks/judge/run.py \
        --models qwen2.5-1.5b,qwen2.5-0.5b --write-packaged

Answers are cached in results/judge_cache.db (a rerun is free); figures go to results.json.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE.parent / "quality"))

from judge_tweets import eval_ids  # noqa: E402

from sentiforge.samples import Sample  # noqa: E402

EVAL = 150


def eval_set(scheme_name: str, exclude: set[str]) -> list[Sample]:
    from sentiforge.io.datasets import load_uci, load_vader
    from sentiforge.labels import get_scheme

    if scheme_name == "three_class":
        tweets = {s.attributes["id"]: s for s in load_vader("tweets", get_scheme("three_class"))}
        return [tweets[i] for i in eval_ids(list(tweets))[:EVAL] if tweets[i].text not in exclude]
    pool = [s for name in ("yelp", "amazon", "imdb") for s in load_uci(name) if s.text not in exclude]
    return random.Random(13).sample(pool, EVAL)


def scores(pred: list[str | None], truth: list[str], labels: list[str]) -> dict[str, Any]:
    n = len(truth)
    per = {}
    for label in labels:
        said = [i for i in range(n) if pred[i] == label]
        real = [i for i in range(n) if truth[i] == label]
        hit = sum(truth[i] == label for i in said)
        per[label] = {
            "precision": round(hit / len(said), 3) if said else None,
            "recall": round(hit / len(real), 3) if real else None,
            "support": len(real),
        }
    recalls = [v["recall"] for v in per.values() if v["recall"] is not None]
    return {
        "n": n,
        "accuracy": round(sum(p == t for p, t in zip(pred, truth, strict=True)) / n, 3),
        "balanced_accuracy": round(float(np.mean(recalls)), 3),
        "abstained": sum(p is None for p in pred),
        "per_label": per,
    }


def run_one(model: str, scheme_name: str, write: bool) -> dict[str, Any]:
    from sentiforge.backends import LLMClient, from_spec
    from sentiforge.labels import get_scheme
    from sentiforge.quality.judge_calibration import calibrate, calibration_texts, judge_id
    from sentiforge.quality.label_judge import LabelJudge
    from sentiforge.recipe import BackendSpec
    from sentiforge.store import Store

    scheme = get_scheme(scheme_name)
    store = Store(f"sqlite:///{HERE / 'results' / 'judge_cache.db'}")
    backend = from_spec(BackendSpec(kind="embedded", model=model, n_ctx=1024))
    cache = store.cache(backend.key)
    judge = LabelJudge(LLMClient(backend, cache=cache), scheme)
    source, calib = calibration_texts(scheme, None)
    evaluation = eval_set(scheme_name, {s.text for s in calib})
    start = time.time()
    calib_probs = judge.score_many([s.text for s in calib])
    eval_probs = judge.score_many([s.text for s in evaluation])
    cache.flush()
    seconds = time.time() - start
    labels = list(scheme.labels)
    calibration = calibrate(calib_probs, [str(s.label) for s in calib], labels, source=source)
    calibration = calibration.model_copy(update={"judge_id": judge_id(backend.key, judge.prompt_id, labels)})
    truth = [str(s.label) for s in evaluation]
    raw = [labels[int(np.argmax(p))] if p is not None else None for p in eval_probs]
    judge.calibration = calibration
    calibrated = [judge.decide(p) for p in eval_probs]
    if write:
        calibration.save(ROOT / "src" / "sentiforge" / "quality" / "calibrations" / f"{model}.{scheme_name}.json")
    judge.close()
    return {
        "model": model,
        "scheme": scheme_name,
        "calibration": {
            "source": source,
            "n": calibration.n,
            "offsets": dict(zip(labels, calibration.offsets, strict=True)),
        },
        "uncalibrated": scores(raw, truth, labels),
        "calibrated": scores(calibrated, truth, labels),
        "seconds_scoring": round(seconds, 1),
        "requests": len(calib) + len(evaluation),
        "load": Path("/proc/loadavg").read_text().split()[:3],
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="qwen2.5-1.5b")
    ap.add_argument("--schemes", default="three_class,binary")
    ap.add_argument("--write-packaged", action="store_true")
    args = ap.parse_args()
    (HERE / "results").mkdir(exist_ok=True)
    out_path = HERE / "results.json"
    results = json.loads(out_path.read_text()) if out_path.exists() else {}
    for model in args.models.split(","):
        for scheme in args.schemes.split(","):
            result = run_one(model, scheme, args.write_packaged)
            results[f"{model}/{scheme}"] = result
            out_path.write_text(json.dumps(results, indent=1))
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
