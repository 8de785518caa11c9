"""Realism benchmark, the part that needs no LLM: pseudo-labels of the unlabelled pool.

    flock /tmp/sentiforge-model.lock .venv/bin/python benchmarks/realism/run.py \
        --draws 3 --classifiers tfidf,embedding --out benchmarks/realism/results.json

Design (issue #12): per dataset (VADER tweets 3-class; UCI sentences, all three sources,
binary), one stratified split (split_real, 30% test, seed 0). Per draw d: 200 labelled seeds
drawn stratified from the train split (seed d); the rest of the train split is the
unlabelled pool (labels hidden from the labeller, kept only to score it). Training sets:
seeds alone; pseudo-labels alone; seeds + pseudo-labels; the full real train split (TRTR).
Each is scored by macro-F1 on the real test split; mean and spread over draws. The pool's
pseudo-labels are also scored against the hidden labels (precision vs the promise).
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from draws import real_split, stratified  # benchmarks/realism/draws.py, beside this script

from sentiforge.classifiers.registry import build_classifier
from sentiforge.evaluation.metrics import confusion, macro_f1, mean_spread
from sentiforge.evaluation.similarity import distinct_n, ks_distance, tokens
from sentiforge.labels import LabelScheme
from sentiforge.quality.pseudo_labels import pseudo_label
from sentiforge.samples import Sample

HERE = Path(__file__).resolve().parent
def score(kind: str, scheme: LabelScheme, train: list[Sample], test: list[Sample], seed: int) -> float:
    clf = build_classifier(kind, scheme)
    clf.fit([s.text for s in train], [str(s.label) for s in train])
    predicted = clf.predict([s.text for s in test])
    index = {label: i for i, label in enumerate(scheme.labels)}
    cm = confusion(
        np.array([index[str(s.label)] for s in test]), np.array([index[str(p)] for p in predicted]), len(scheme.labels)
    )
    return round(macro_f1(cm), 4)


def realism(real: list[Sample], other: list[Sample]) -> dict[str, float]:
    r, o = [s.text for s in real], [s.text for s in other]
    return {
        "ks_words": round(ks_distance([len(tokens(t)) for t in r], [len(tokens(t)) for t in o]), 4),
        "distinct_2_real": round(distinct_n(r[: len(o)], 2), 4),
        "distinct_2_other": round(distinct_n(o[: len(r)], 2), 4),
    }


def one_draw(
    name: str, scheme: LabelScheme, train: list[Sample], test: list[Sample], d: int, kinds: list[str]
) -> dict[str, Any]:
    seeds, pool = stratified(train, 200, d)
    hidden = [s.model_copy(update={"label": None}) for s in pool]
    started = time.perf_counter()
    result = pseudo_label(hidden, seeds, scheme, target_precision=0.9, lexicon=name == "tweets", seed=d)
    seconds = time.perf_counter() - started
    truth = {s.text: s.label for s in pool}
    kept = result.samples
    out: dict[str, Any] = {
        "seeds": len(seeds),
        "pool": len(pool),
        "pseudo": {
            **result.summary(),
            "precision_on_hidden_labels": round(float(np.mean([truth[s.text] == s.label for s in kept])), 4),
            "seconds": round(seconds, 2),
            **realism(train, kept),
        },
        "macro_f1": {},
    }
    sets = {"seeds": seeds, "pseudo": kept, "seeds+pseudo": seeds + kept, "full_train": train}
    for kind in kinds:
        out["macro_f1"][kind] = {arm: score(kind, scheme, data, test, d) for arm, data in sets.items()}
    return out


def summarise(draws: list[dict[str, Any]], kinds: list[str]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for kind in kinds:
        arms = draws[0]["macro_f1"][kind]
        summary[kind] = {arm: mean_spread([d["macro_f1"][kind][arm] for d in draws]) for arm in arms}
        gains = [d["macro_f1"][kind]["seeds+pseudo"] - d["macro_f1"][kind]["seeds"] for d in draws]
        summary[kind]["gain_seeds+pseudo_over_seeds"] = mean_spread(gains)
        ratio = [d["macro_f1"][kind]["pseudo"] / d["macro_f1"][kind]["full_train"] for d in draws]
        summary[kind]["pseudo_over_full_train"] = mean_spread(ratio)
    summary["pseudo_precision_promised"] = mean_spread([d["pseudo"]["promised_precision"] for d in draws])
    summary["pseudo_precision_measured"] = mean_spread([d["pseudo"]["precision_on_hidden_labels"] for d in draws])
    summary["pseudo_kept"] = mean_spread([d["pseudo"]["kept"] for d in draws])
    return summary


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=3)
    ap.add_argument("--classifiers", default="tfidf,embedding")
    ap.add_argument("--datasets", default="tweets,uci")
    ap.add_argument("--out", default=str(HERE / "results.json"))
    args = ap.parse_args()
    kinds = args.classifiers.split(",")
    report: dict[str, Any] = {"draws": args.draws, "classifiers": kinds}
    for name in args.datasets.split(","):
        scheme, train, test = real_split(name)
        draws = [one_draw(name, scheme, train, test, d, kinds) for d in range(args.draws)]
        report[name] = {
            "train": len(train),
            "test": len(test),
            "labels": dict(Counter(str(s.label) for s in train)),
            "summary": summarise(draws, kinds),
            "draws": draws,
        }
        print(json.dumps({name: report[name]["summary"]}, indent=1), flush=True)
    Path(args.out).write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
