"""Active-learning benchmark (issue 23): do 100 labels chosen by the "label these next" queue
help a classifier more than 100 random labels?

    flock /tmp/sentiforge-model.lock nice env PYTHONPATH=src .venv/bin/python \
        benchmarks/active_learning/run.py --draws 5

Per dataset (VADER tweets 3-class; UCI sentences binary), the data and split of
benchmarks/build and benchmarks/realism: deduplicated, split_real(holdout=0.3, seed=0); per draw
d, 200 seeds drawn stratified from the train split (seed d, realism's helper) and the rest of
the train split as the pool, its labels hidden. A simulated reviewer reveals a pool text's label
only when it is chosen. Arms, each scored by macro-F1 on the real test split:

- seeds: the embedding classifier (MiniLM + logistic regression) on the 200 seeds;
- random: seeds + 100 uniformly random pool texts (``--random-repeats`` draws, averaged);
- each method of ``--methods`` (sentiforge.classifiers.active_learning), in ``--rounds`` rounds
  of 100/rounds labels, the classifier retrained on seeds + labels so far between rounds (as the
  label queue refits every 25 labels). ``--final contrastive`` scores another classifier on the
  same training sets (the texts still chosen by ``--classifier``, as the queue does for slow kinds).

Gains over seeds-only get t-intervals over the draws; the ratio is mean chosen gain / mean
random gain (target >= 1.5 on both sets). Embeddings are computed once per text (the embedding
classifier's memo), so a draw costs a few dozen logistic-regression fits.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from sentiforge.classifiers.active_learning import PREFILTER, select
from sentiforge.classifiers.base import fit_samples
from sentiforge.classifiers.embedding import encode
from sentiforge.classifiers.registry import build_classifier
from sentiforge.evaluation.metrics import confusion, macro_f1
from sentiforge.labels import LabelScheme
from sentiforge.samples import Sample

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "realism"))
from draws import real_split, stratified  # noqa: E402  (benchmarks/realism/draws.py: data, split, draws)


def fit(kind: str, scheme: LabelScheme, train: list[Sample]) -> Any:
    clf = build_classifier(kind, scheme, language="en")
    fit_samples(clf, train, scheme)
    return clf


def test_f1(clf: Any, scheme: LabelScheme, test: list[Sample]) -> float:
    proba = clf.predict_proba([s.text for s in test])
    truth = np.array([scheme.labels.index(str(s.label)) for s in test])
    return float(macro_f1(confusion(truth, proba.argmax(axis=1), len(scheme.labels))))


def chosen_arm(
    kind: str, method: str, rounds: int, budget: int, scheme: LabelScheme, seeds: list[Sample],
    pool: list[Sample], vectors: np.ndarray, seed: int,
) -> list[int]:  # fmt: skip
    """The pool rows of ``budget`` labels chosen in ``rounds`` rounds, ``kind`` refitted between."""
    texts = [s.text for s in pool]
    picked: list[int] = []
    clf = fit(kind, scheme, seeds)
    for r in range(rounds):
        size = budget // rounds + (1 if r < budget % rounds else 0)
        proba = clf.predict_proba(texts)
        name, _, wide = method.partition(":")  # diverse-margin:3: 3 x n candidates clustered
        prefilter = int(wide or PREFILTER)
        more = select(proba, vectors, size, exclude=picked, method=name, prefilter=prefilter, seed=seed + r)
        picked += [p.index for p in more]
        if r < rounds - 1:
            clf = fit(kind, scheme, seeds + [pool[i] for i in picked])  # the reviewer's answers revealed
    return picked


def one_draw(name: str, d: int, data: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    scheme, train, test = data["scheme"], data["train"], data["test"]
    seeds, pool = stratified(train, 200, d)
    vectors = encode("minilm", [s.text for s in pool])
    kind, final = args.classifier, args.final or args.classifier

    def score(rows: Any) -> float:  # the final classifier on the seeds and these pool texts, on test
        return test_f1(fit(final, scheme, seeds + [pool[i] for i in rows]), scheme, test)

    base = score([])
    rng = np.random.default_rng(1000 + d)
    random_f1 = [score(rng.choice(len(pool), args.budget, replace=False)) for _ in range(args.random_repeats)]
    out: dict[str, Any] = {"dataset": name, "draw": d, "seeds": len(seeds), "pool": len(pool),
                           "seeds_f1": round(base, 4), "random_f1": [round(x, 4) for x in random_f1]}  # fmt: skip
    for method in args.methods.split(","):
        for rounds in [int(r) for r in args.rounds.split(",")]:
            started = time.perf_counter()
            picked = chosen_arm(kind, method, rounds, args.budget, scheme, seeds, pool, vectors, d)
            f1 = score(picked)
            labels = [str(pool[i].label) for i in picked]
            out[f"{method}x{rounds}"] = {
                "f1": round(f1, 4),
                "seconds": round(time.perf_counter() - started, 1),
                "labels": {lab: labels.count(lab) for lab in scheme.labels},
            }
    return out


def t_interval(values: list[float]) -> dict[str, Any]:
    from scipy import stats

    v = np.asarray(values, dtype=float)
    half = stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else float("nan")
    return {"mean": round(float(v.mean()), 4), "low": round(float(v.mean() - half), 4),
            "high": round(float(v.mean() + half), 4), "n": len(v)}  # fmt: skip


def summarise(draws: list[dict[str, Any]]) -> dict[str, Any]:
    random_gain = [float(np.mean(d["random_f1"])) - d["seeds_f1"] for d in draws]
    out: dict[str, Any] = {"seeds_f1": t_interval([d["seeds_f1"] for d in draws]),
                           "random_gain": t_interval(random_gain)}  # fmt: skip
    arms = [k for k in draws[0] if isinstance(draws[0][k], dict) and "f1" in draws[0][k]]
    for arm in arms:
        gain = [d[arm]["f1"] - d["seeds_f1"] for d in draws]
        out[arm] = {
            "gain": t_interval(gain),
            "minus_random": t_interval([g - r for g, r in zip(gain, random_gain, strict=True)]),
            "ratio_to_random": round(float(np.mean(gain)) / float(np.mean(random_gain)), 2)
            if np.mean(random_gain) > 0 else None,
        }  # fmt: skip
    return out


def load(name: str) -> dict[str, Any]:
    scheme, train, test = real_split(name)
    encode("minilm", [s.text for s in train + test])  # once per set: every fit below reuses the memo
    return {"scheme": scheme, "train": train, "test": test}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default="tweets,uci")
    ap.add_argument("--draws", type=int, default=5)
    ap.add_argument("--budget", type=int, default=100)
    ap.add_argument("--methods", default="diverse-margin,margin")
    ap.add_argument("--rounds", default="1,4")
    ap.add_argument("--random-repeats", type=int, default=3)
    ap.add_argument("--classifier", default="embedding", help="the classifier that chooses (refitted per round)")
    ap.add_argument("--final", default="", help="the classifier scored on test (default: --classifier)")
    ap.add_argument("--out", default=str(HERE / "results.json"))
    args = ap.parse_args()
    report: dict[str, Any] = {"args": vars(args), "loadavg_before": os.getloadavg()}
    started = time.perf_counter()
    for name in args.datasets.split(","):
        data = load(name)
        draws = []
        for d in range(args.draws):
            draws.append(one_draw(name, d, data, args))
            print(json.dumps(draws[-1]), flush=True)
        report[name] = {"train": len(data["train"]), "test": len(data["test"]),
                        "summary": summarise(draws), "draws": draws}  # fmt: skip
        print(json.dumps({name: report[name]["summary"]}, indent=1), flush=True)
    report["minutes"] = round((time.perf_counter() - started) / 60, 1)
    report["loadavg_after"] = os.getloadavg()
    Path(args.out).write_text(json.dumps(report, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
