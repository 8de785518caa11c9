"""Build benchmark (issue 22): does `sentiforge build`, choosing on 200 seeds alone, close the gap
to the full real train split, and is its choice honest on the real test split?

    flock /tmp/sentiforge-model.lock nice env PYTHONPATH=src .venv/bin/python benchmarks/build/run.py \
        --datasets tweets,uci --draws 2

Per dataset (VADER tweets 3-class; UCI sentences binary), the split of benchmarks/realism
(split_real, 30% test, seed 0). Per draw d: 200 seeds drawn stratified from the train split
(seed d, realism's helper); the rest of the train split is the pool, its labels hidden. The
build runs with its defaults (5 folds, TF-IDF, embedding, contrastive, the transformer's CPU
preset, 15-minute budget). Then, on the real test split: every candidate the build scored,
trained on all the seeds as the build would (the slow ones up to ``--slow-limit``), the
embedding classifier on the seeds alone and on the full train split (the gap's two ends).
Each draw is written to ``draws/<dataset>-<d>.json`` as it finishes; a rerun skips those.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from sentiforge.app.build_plan import FAST, Planner
from sentiforge.app.requests import BuildRequest
from sentiforge.classifiers.base import fit_samples
from sentiforge.classifiers.registry import build_classifier
from sentiforge.evaluation.metrics import confusion, macro_f1
from sentiforge.labels import LabelScheme
from sentiforge.samples import Sample

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "realism"))
import rules  # noqa: E402  (benchmarks/build/rules.py)

# realism's data, split and seed draws (draws.py), and its other English domain (nyt): build for data in general
from draws import real_split, stratified  # noqa: E402

# 2: the budget checked after each fold; the winner: the most data among the tied (draws-v2/).
# 3: the embedding kind tried with each sentence body (MiniLM, E5, both side by side).
VERSION = 3


def truth_of(scheme: LabelScheme, test: list[Sample]) -> np.ndarray:
    return np.array([scheme.labels.index(str(s.label)) for s in test])


def f1_of(proba: np.ndarray, truth: np.ndarray, n: int) -> float:
    return round(macro_f1(confusion(truth, proba.argmax(axis=1), n)), 4)


def test_f1(clf: Any, scheme: LabelScheme, test: list[Sample]) -> float:
    return f1_of(clf.predict_proba([s.text for s in test]), truth_of(scheme, test), len(scheme.labels))


def reference(kind: str, scheme: LabelScheme, train: list[Sample], test: list[Sample], **params: Any) -> float:
    clf = build_classifier(kind, scheme, language="en", **params)
    fit_samples(clf, train, scheme)
    return test_f1(clf, scheme, test)


def one_draw(name: str, d: int, args: argparse.Namespace) -> dict[str, Any]:
    scheme, train, test = real_split(name)
    seeds, pool = stratified(train, 200, d)
    hidden = [s.model_copy(update={"label": None}) for s in pool]
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        request = BuildRequest.build(
            seeds=name, out_dir=tmp, max_minutes=args.minutes, seed=d, classifiers=args.classifiers
        )
        started = time.perf_counter()
        planner = Planner.for_request(request, seeds, scheme, hidden, {}, None)
        planner.run_stages()
        built = planner.finish(Path(tmp) / "model")
        build_seconds = time.perf_counter() - started
        load_after = os.getloadavg()
        truth, texts = truth_of(scheme, test), [s.text for s in test]
        test_proba: dict[str, np.ndarray] = {}
        slow = 0
        for c in built.candidates:
            run = planner.cv.scored[c["candidate"]].candidate
            if run.kind not in FAST and c["candidate"] != built.winner["candidate"] and not c["tied_with_best"]:
                if slow >= args.slow_limit:
                    continue
                slow += 1
            test_proba[c["candidate"]] = planner.final_model(run).predict_proba(texts)
        on_test = {k: f1_of(v, truth, len(scheme.labels)) for k, v in test_proba.items()}
        by_rule = {"seeds": rules.on_the_seeds(planner.cv), "test": rules.on_the_test(planner.cv, test_proba, truth)}
    emb_seeds = reference("embedding", scheme, seeds, test)
    emb_full = reference("embedding", scheme, train, test)
    gap = emb_full - emb_seeds
    chosen = on_test[built.winner["candidate"]]
    return {
        "version": VERSION,
        "dataset": name,
        "draw": d,
        "seeds": len(seeds),
        "pool": len(pool),
        "test": len(test),
        "build_seconds": round(build_seconds, 1),
        "loadavg_before": load_before,
        "loadavg_after": load_after,
        "classifiers": args.classifiers,
        "chosen": built.winner["candidate"],
        "chosen_cv": built.winner["macro_f1"],
        "chosen_test": chosen,
        "best_test": max(on_test.values()),
        "best_candidate_test": max(on_test, key=lambda k: on_test[k]),
        "embedding_seeds_test": emb_seeds,
        "embedding_full_train_test": emb_full,
        "gap_closed": round((chosen - emb_seeds) / gap, 4) if gap > 0 else None,
        "candidates": [{**c, "test_macro_f1": on_test.get(c["candidate"])} for c in built.candidates],
        "gap_closed_by_candidate": {k: round((v - emb_seeds) / gap, 4) for k, v in on_test.items()} if gap > 0 else {},
        "rules": by_rule,
        "out_of_fold": {k: r.predicted.tolist() for k, r in planner.cv.scored.items()},
        "contributions": built.contributions,
        "skipped": built.skipped,
        "pseudo_labels": built.pseudo_labels,
    }


def t_interval(values: list[float]) -> dict[str, Any]:
    v = np.asarray([x for x in values if x is not None], dtype=float)
    if len(v) < 2:
        return {"mean": float(v.mean()) if len(v) else None, "n": len(v)}
    from scipy import stats

    half = stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))
    return {"mean": round(float(v.mean()), 4), "low": round(float(v.mean() - half), 4),
            "high": round(float(v.mean() + half), 4), "n": len(v)}  # fmt: skip


def summarise(draws: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"draws": len(draws), "chosen": [d["chosen"] for d in draws]}
    out["gap_closed"] = t_interval([d["gap_closed"] for d in draws])
    out["chosen_minus_best_test"] = t_interval([d["chosen_test"] - d["best_test"] for d in draws])
    out["within_1_point"] = sum(d["best_test"] - d["chosen_test"] <= 0.01 for d in draws)
    out["build_minutes"] = t_interval([d["build_seconds"] / 60 for d in draws])
    out["stopped_or_skipped"] = sorted({s["candidate"] for d in draws for s in d["skipped"]})
    low, high = "embedding_seeds_test", "embedding_full_train_test"
    out["rules_on_the_seeds"] = {
        rule: t_interval([d["rules"]["seeds"][rule]["macro_f1"] for d in draws]) for rule in rules.RULES
    }
    out["rules_on_the_test"] = {
        rule: t_interval(
            [
                (d["rules"]["test"][rule]["test_macro_f1"] - d[low]) / (d[high] - d[low])
                for d in draws
                if d["rules"]["test"][rule]["test_macro_f1"] is not None
            ]
        )
        for rule in rules.RULES
    }
    by_candidate: dict[str, list[float]] = {}
    for d in draws:
        for k, v in d["gap_closed_by_candidate"].items():
            by_candidate.setdefault(k, []).append(v)
    out["gap_closed_by_candidate"] = {k: t_interval(v) for k, v in sorted(by_candidate.items())}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default="tweets,uci")
    ap.add_argument("--draws", type=int, default=2, help="draws 0..N-1 (0: only re-summarise those done)")
    ap.add_argument("--minutes", type=float, default=15.0)
    ap.add_argument("--classifiers", default="tfidf,embedding,contrastive,transformer")
    ap.add_argument("--out", default=str(HERE), help="folder for draws/ and results.json")
    ap.add_argument("--slow-limit", type=int, default=2, help="slow candidates besides the winner scored on test")
    args = ap.parse_args()
    out = Path(args.out)
    (out / "draws").mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {}
    every: list[dict[str, Any]] = []
    for name in args.datasets.split(","):
        for d in range(args.draws):
            path = out / "draws" / f"{name}-{d}.json"
            if not path.exists():
                path.write_text(json.dumps(one_draw(name, d, args), indent=1), encoding="utf-8")
                print(f"{name} draw {d} done", flush=True)
        draws = [json.loads(p.read_text()) for p in sorted((out / "draws").glob(f"{name}-*.json"))]
        draws = [d for d in draws if d.get("version") == VERSION]  # older builds: see draws-v1/, draws-v2/
        report[name] = summarise(draws)
        every += draws
    if len(report) > 1:
        report["all"] = summarise(every)
    (out / "results.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
