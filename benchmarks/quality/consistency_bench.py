"""Flipped-label detection on VADER tweets (3-class from the mean rating), 10% flipped.

    .venv/bin/python benchmarks/quality/judge_tweets.py --model qwen2.5-1.5b   # once, slow
    .venv/bin/python benchmarks/quality/consistency_bench.py --model qwen2.5-1.5b

Design (fixed, documented in README):
- 1,000 tweets drawn with seed 13 (judge_tweets.eval_ids): the first 400 are the dev part
  (to choose the policy threshold), the next 600 the test part (reported). The other 3,200
  tweets, with their human labels, are the real seeds the classifier is trained on.
- In each part 10% of the labels are flipped (seed 7): positive <-> negative, and a neutral
  tweet to positive or negative at random ("polar" flips). A second variant flips to any other
  label uniformly ("any"), which includes the subtle neutral <-> polar moves.
- A flipped label is detected when the consistency check rejects it (policy "reject": both
  opinions disagree with the label and the consistency score is below ``reject_below``).
- Baselines: the judge's accuracy on the true labels, against VADER's own lexicon scorer
  (compound >= 0.05 positive, <= -0.05 negative, else neutral) on the same tweets.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

import numpy as np
from judge_tweets import eval_ids  # type: ignore[import-not-found]

from sentiforge.io.datasets import load_vader
from sentiforge.labels import get_scheme
from sentiforge.quality.config import ConsistencyConfig
from sentiforge.quality.consistency import OneStepClassifier, SeedClassifier, decide, one_step
from sentiforge.samples import Sample

HERE = Path(__file__).resolve().parent
SCHEME = get_scheme("three_class")


def flip(samples: list[Sample], mode: str, seed: int) -> tuple[list[str], set[int]]:
    rng = random.Random(seed)
    chosen = set(rng.sample(range(len(samples)), len(samples) // 10))
    labels = []
    for i, s in enumerate(samples):
        label = str(s.label)
        if i in chosen:
            others = [x for x in SCHEME.labels if x != label]
            if mode == "polar" and label != "neutral":
                label = "negative" if label == "positive" else "positive"
            else:
                label = rng.choice([x for x in others if mode == "any" or x != "neutral"])
        labels.append(label)
    return labels, chosen


def vader_label(text: str, analyzer: Any) -> str:
    c = analyzer.polarity_scores(text)["compound"]
    return "positive" if c >= 0.05 else "negative" if c <= -0.05 else "neutral"


def detect(
    part: list[Sample],
    labels: list[str],
    judged: list[str | None],
    probs: np.ndarray | None,
    cfg: ConsistencyConfig,
    sides: OneStepClassifier | None = None,
) -> list[bool]:
    """Rejected by the consistency check: dual opinions, then (with ``sides``) the one-step check."""
    support = sides.side_support([s.text for s in part], labels) if sides is not None else None
    out = []
    for i in range(len(part)):
        verdict = decide(SCHEME, labels[i], judged[i], probs[i] if probs is not None else None, cfg)
        if support is not None and verdict.verdict != "reject":
            verdict = one_step(labels[i], judged[i], float(support[i]), cfg) or verdict
        out.append(verdict.verdict == "reject")
    return out


def pr(detected: list[bool], flipped: set[int]) -> dict[str, float]:
    hits = {i for i, d in enumerate(detected) if d}
    tp = len(hits & flipped)
    return {
        "precision": round(tp / max(1, len(hits)), 3),
        "recall": round(tp / len(flipped), 3),
        "detected": len(hits),
        "flipped": len(flipped),
    }


def main() -> None:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="qwen2.5-1.5b")
    args = ap.parse_args()
    answers = json.loads((HERE / "results" / f"judge_{args.model}.json").read_text())["answers"]
    tweets = {s.attributes["id"]: s for s in load_vader("tweets", SCHEME)}
    ids = eval_ids(list(tweets))
    chosen = set(ids)
    seeds = [s for i, s in tweets.items() if i not in chosen]
    dev = [tweets[i] for i in ids[:400]]
    test = [tweets[i] for i in ids[400:1000]]
    classifiers = {
        "tfidf+lexicon": SeedClassifier(SCHEME, lexicon=True).fit(seeds),  # what the gate uses for English
        "tfidf": SeedClassifier(SCHEME).fit(seeds),
    }
    clf = classifiers["tfidf+lexicon"]
    analyzer = SentimentIntensityAnalyzer()
    out: dict[str, Any] = {"model": args.model, "seeds": len(seeds), "dev": len(dev), "test": len(test)}

    every = dev + test
    judged_all = [answers.get(str(s.attributes["id"])) for s in every]
    truth = [str(s.label) for s in every]
    probs = {k: c.proba([s.text for s in every]) for k, c in classifiers.items()}
    out["accuracy_on_true_labels"] = {
        "judge": round(np.mean([j == t for j, t in zip(judged_all, truth, strict=True)]), 3),
        "judge_abstained": sum(j is None for j in judged_all),
        "vader_lexicon": round(
            np.mean([vader_label(s.text, analyzer) == t for s, t in zip(every, truth, strict=True)]), 3
        ),
        **{
            f"seed_classifier_{k}": round(
                np.mean([SCHEME.labels[int(p.argmax())] == t for p, t in zip(v, truth, strict=True)]), 3
            )
            for k, v in probs.items()
        },
        "n": len(every),
    }
    sides = OneStepClassifier(SCHEME, lexicon=True).fit(seeds)
    for mode in ("polar", "any"):
        out[mode] = run_mode(mode, dev, test, answers, clf)
        out[f"{mode}_one_step"] = run_one_step(mode, dev, test, answers, clf, sides)
    out["polar_with_tfidf_only_classifier"] = run_mode("polar", dev, test, answers, classifiers["tfidf"])
    print(json.dumps(out, indent=1))
    (HERE / "results" / f"consistency_{args.model}.json").write_text(json.dumps(out, indent=1))


GRID_T1 = (0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)  # reject_below
GRID_T2 = (0.0, 0.01, 0.02, 0.03, 0.05, 0.1)  # classifier_reject_below


def f1(m: dict[str, float]) -> float:
    return 2 * m["precision"] * m["recall"] / max(1e-9, m["precision"] + m["recall"])


def run_mode(
    mode: str, dev: list[Sample], test: list[Sample], answers: dict[str, Any], clf: SeedClassifier
) -> dict[str, Any]:
    parts = {}
    for name, part, seed in (("dev", dev, 7), ("test", test, 8)):
        labels, flipped = flip(part, mode, seed)
        judged = [answers.get(str(s.attributes["id"])) for s in part]
        parts[name] = (part, labels, flipped, judged, clf.proba([s.text for s in part]))

    def measure(name: str, cfg: ConsistencyConfig, judge: bool = True, classifier: bool = True) -> dict[str, float]:
        part, labels, flipped, judged, probs = parts[name]
        use_judged = judged if judge else [None] * len(part)
        return pr(detect(part, labels, use_judged, probs if classifier else None, cfg), flipped)

    sweep = {
        (t1, t2): measure("dev", ConsistencyConfig(reject_below=t1, classifier_reject_below=t2))
        for t1 in GRID_T1
        for t2 in GRID_T2
    }
    best = max(sweep, key=lambda k: f1(sweep[k]))
    chosen = ConsistencyConfig(reject_below=best[0], classifier_reject_below=best[1])
    default = ConsistencyConfig()
    return {
        "dev_best": {"reject_below": best[0], "classifier_reject_below": best[1], **sweep[best]},
        "dev_at_defaults": measure("dev", default),
        "test_at_dev_choice": measure("test", chosen),
        "test_at_defaults": measure("test", default),
        "test_both_must_disagree_only": measure(
            "test", ConsistencyConfig(reject_below=best[0], classifier_reject_below=0.0)
        ),
        "test_judge_only": measure("test", ConsistencyConfig(reject_below=1.0), classifier=False),
        "test_classifier_only": measure("test", chosen, judge=False),
    }


GRID_ONE_STEP = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)  # one_step_below


def run_one_step(
    mode: str, dev: list[Sample], test: list[Sample], answers: dict[str, Any], clf: SeedClassifier, sides: Any
) -> dict[str, Any]:
    """The default dual check plus the one-step check, its threshold chosen on dev ("any" F1)."""
    result: dict[str, Any] = {}
    for name, part, seed in (("dev", dev, 7), ("test", test, 8)):
        labels, flipped = flip(part, mode, seed)
        judged = [answers.get(str(s.attributes["id"])) for s in part]
        probs = clf.proba([s.text for s in part])
        result[name] = {
            str(t): pr(detect(part, labels, judged, probs, ConsistencyConfig(one_step_below=t), sides), flipped)
            for t in GRID_ONE_STEP
        }
    return result


if __name__ == "__main__":
    main()
