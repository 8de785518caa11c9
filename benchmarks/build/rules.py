"""Selection rules compared on the seeds alone (never on the test split): each rule picks from the
candidates' scores on all folds but one, and the pick's out-of-fold answers on that fold are
pooled over the folds (leave-one-fold-out selection on the recorded out-of-fold predictions).

Rules: ``best`` (the highest score), ``fastest_within_1pt`` (the build's first rule),
``most_data_tied`` (the build's rule: :func:`sentiforge.classifiers.selection.choose`) and
``ensemble_tied`` (the tied eligible candidates' probabilities averaged). The same rules are
also applied to the full-seed scores and their picks read on the test split (report only).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from sentiforge.classifiers.selection import CrossValidation, Scored, choose, sources_earned_their_place, tied_with_best
from sentiforge.evaluation import metrics

Rule = Callable[[list[Scored]], list[Scored]]  # the candidates whose probabilities are averaged


def _eligible(runs: list[Scored]) -> list[Scored]:
    by_name = {r.candidate.name: r for r in runs}
    return [r for r in runs if sources_earned_their_place(r, by_name)]


def best(runs: list[Scored]) -> list[Scored]:
    return [max(runs, key=lambda r: r.macro_f1)]


def fastest_within_1pt(runs: list[Scored]) -> list[Scored]:
    top = max(r.macro_f1 for r in runs)
    return [min((r for r in runs if r.macro_f1 >= top - 0.01), key=lambda r: (r.seconds, -r.macro_f1))]


def most_data_tied(runs: list[Scored]) -> list[Scored]:
    by_name = {r.candidate.name: r for r in runs}
    return [choose(sorted(runs, key=lambda r: -r.macro_f1), eligible=lambda r: sources_earned_their_place(r, by_name))]


def ensemble_tied(runs: list[Scored]) -> list[Scored]:
    return [r for r in _eligible(runs) if r.tied] or best(runs)


RULES: dict[str, Rule] = {
    "best": best,
    "fastest_within_1pt": fastest_within_1pt,
    "most_data_tied": most_data_tied,
    "ensemble_tied": ensemble_tied,
}


def rescored(cv: CrossValidation, mask: np.ndarray, bootstrap: int) -> list[Scored]:
    """Copies of the scored candidates with score and tie flag computed on the masked seeds."""
    runs = list(cv.scored.values())
    fn = metrics.metric_fn("macro_f1", cv.scheme)
    y = cv.y[mask]
    values = metrics.bootstrap(y, [r.predicted[mask] for r in runs], fn, n=bootstrap, seed=cv.seed)
    scores = [fn(y, r.predicted[mask]) for r in runs]
    ties = tied_with_best(values, scores)
    return [replace(r, macro_f1=s, tied=t) for r, s, t in zip(runs, scores, ties, strict=True)]


def _answer(members: Sequence[Scored], rows: np.ndarray) -> np.ndarray:
    probas = [m.proba[rows] for m in members if m.proba is not None]
    return np.argmax(np.mean(probas, axis=0), axis=1)


def on_the_seeds(cv: CrossValidation, bootstrap: int = 300) -> dict[str, Any]:
    """Per rule: the macro-F1 of its leave-one-fold-out picks, and what it picked per fold."""
    fn = metrics.metric_fn("macro_f1", cv.scheme)
    out: dict[str, Any] = {}
    for name, rule in RULES.items():
        answers, picks = np.zeros(len(cv.y), dtype=int), []
        for f in range(cv.k):
            members = rule(rescored(cv, cv.fold != f, bootstrap))
            rows = np.flatnonzero(cv.fold == f)
            answers[rows] = _answer(members, rows)
            picks.append([m.candidate.name for m in members])
        out[name] = {"macro_f1": round(fn(cv.y, answers), 4), "picks": picks}
    return out


def on_the_test(
    cv: CrossValidation, test_proba: dict[str, np.ndarray], truth: np.ndarray, bootstrap: int = 300
) -> dict[str, Any]:
    """Per rule: its pick on all the seeds, and that pick's macro-F1 on the test split (None when a
    member was not trained for the test split)."""
    fn = metrics.metric_fn("macro_f1", cv.scheme)
    runs = rescored(cv, np.ones(len(cv.y), dtype=bool), bootstrap)
    out: dict[str, Any] = {}
    for name, rule in RULES.items():
        members = [m.candidate.name for m in rule(runs)]
        score = None
        if all(m in test_proba for m in members):
            score = round(fn(truth, np.argmax(np.mean([test_proba[m] for m in members], axis=0), axis=1)), 4)
        out[name] = {"picked": members, "test_macro_f1": score}
    return out
