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
import importlib.util
import json
import os
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
from sentiforge.io.datasets import load_builtin
from sentiforge.io.splits import dedupe, split_real
from sentiforge.labels import LabelScheme, get_scheme
from sentiforge.samples import Sample

HERE = Path(__file__).resolve().parent


def _realism() -> Any:
    """benchmarks/realism/run.py: the same datasets, split and seed draws."""
    spec = importlib.util.spec_from_file_location("realism_run", HERE.parent / "realism" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REALISM = _realism()
DATASETS, stratified = REALISM.DATASETS, REALISM.stratified


def test_f1(clf: Any, scheme: LabelScheme, test: list[Sample]) -> float:
    proba = clf.predict_proba([s.text for s in test])
    truth = np.array([scheme.labels.index(str(s.label)) for s in test])
    return round(macro_f1(confusion(truth, proba.argmax(axis=1), len(scheme.labels))), 4)


def reference(kind: str, scheme: LabelScheme, train: list[Sample], test: list[Sample]) -> float:
    clf = build_classifier(kind, scheme, language="en")
    fit_samples(clf, train, scheme)
    return test_f1(clf, scheme, test)


def one_draw(name: str, d: int, args: argparse.Namespace) -> dict[str, Any]:
    specs, scheme_name = DATASETS[name]
    scheme = get_scheme(scheme_name)
    real = dedupe([s for spec in specs for s in load_builtin(spec, scheme)])
    train, test = split_real(real, holdout=0.3, seed=0)
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
        on_test, slow = {}, 0
        for c in built.candidates:
            run = planner.cv.scored[c["candidate"]].candidate
            if run.kind not in FAST and c["candidate"] != built.winner["candidate"]:
                if slow >= args.slow_limit:
                    continue
                slow += 1
            on_test[c["candidate"]] = test_f1(planner.final_model(run), scheme, test)
    emb_seeds = reference("embedding", scheme, seeds, test)
    emb_full = reference("embedding", scheme, train, test)
    gap = emb_full - emb_seeds
    chosen = on_test[built.winner["candidate"]]
    return {
        "dataset": name,
        "draw": d,
        "seeds": len(seeds),
        "pool": len(pool),
        "test": len(test),
        "build_seconds": round(build_seconds, 1),
        "loadavg_before": load_before,
        "loadavg_after": load_after,
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


def by_tie_rule(d: dict[str, Any], tie: float = 0.01) -> dict[str, Any]:
    """The candidate the build's rule (the fastest within ``tie`` of the best CV score) picks from
    the recorded scores: the same as ``chosen`` for draws run after the rule was added."""
    best = max(c["macro_f1"] for c in d["candidates"])
    ties = [c for c in d["candidates"] if c["macro_f1"] >= best - tie]
    return min(ties, key=lambda c: (c["seconds"], -c["macro_f1"]))


def summarise(draws: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"draws": len(draws)}
    out["gap_closed"] = t_interval([d["gap_closed"] for d in draws])
    out["chosen_minus_best_test"] = t_interval([d["chosen_test"] - d["best_test"] for d in draws])
    out["within_1_point"] = sum(d["best_test"] - d["chosen_test"] <= 0.01 for d in draws)
    ruled = [(d, by_tie_rule(d)) for d in draws]
    low, high = "embedding_seeds_test", "embedding_full_train_test"
    gap = [(c["test_macro_f1"] - d[low]) / (d[high] - d[low]) for d, c in ruled]
    out["tie_rule"] = {
        "chosen": [c["candidate"] for _, c in ruled],
        "gap_closed": t_interval(gap),
        "chosen_minus_best_test": t_interval([c["test_macro_f1"] - d["best_test"] for d, c in ruled]),
        "within_1_point": sum(d["best_test"] - c["test_macro_f1"] <= 0.01 for d, c in ruled),
    }
    out["build_minutes"] = t_interval([d["build_seconds"] / 60 for d in draws])
    by_candidate: dict[str, list[float]] = {}
    for d in draws:
        for k, v in d["gap_closed_by_candidate"].items():
            by_candidate.setdefault(k, []).append(v)
    out["gap_closed_by_candidate"] = {k: t_interval(v) for k, v in sorted(by_candidate.items())}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default="tweets,uci")
    ap.add_argument("--draws", type=int, default=2)
    ap.add_argument("--minutes", type=float, default=15.0)
    ap.add_argument("--classifiers", default="tfidf,embedding,contrastive,transformer")
    ap.add_argument("--out", default=str(HERE), help="folder for draws/ and results.json")
    ap.add_argument("--slow-limit", type=int, default=2, help="slow candidates besides the winner scored on test")
    args = ap.parse_args()
    out = Path(args.out)
    (out / "draws").mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {}
    for name in args.datasets.split(","):
        for d in range(args.draws):
            path = out / "draws" / f"{name}-{d}.json"
            if not path.exists():
                path.write_text(json.dumps(one_draw(name, d, args), indent=1), encoding="utf-8")
                print(f"{name} draw {d} done", flush=True)
        draws = [json.loads(p.read_text()) for p in sorted((out / "draws").glob(f"{name}-*.json"))]
        report[name] = summarise(draws)
    (out / "results.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
