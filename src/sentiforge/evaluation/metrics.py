"""Classification metrics in numpy, checked against scikit-learn by the tests.

Written out rather than called from sklearn so that a bootstrap can recompute them
thousands of times from a confusion matrix (cheap), and so that edge cases (a class absent
from the holdout, zero divisions) behave the same everywhere: a 0/0 precision or recall
counts as 0, as sklearn's ``zero_division=0``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from sentiforge.errors import ConfigError, DataError
from sentiforge.labels import LabelScheme

Array = np.ndarray


# -- single-label ---------------------------------------------------------------------
def confusion(y_true: Array, y_pred: Array, n: int) -> Array:
    """Rows are true classes, columns predicted ones (sklearn's convention)."""
    return np.bincount(np.asarray(y_true) * n + np.asarray(y_pred), minlength=n * n).reshape(n, n)


def _div(a: Array, b: Array) -> Array:
    return np.divide(a, b, out=np.zeros_like(a, dtype=float), where=b != 0)


def per_class(cm: Array) -> dict[str, Array]:
    tp = np.diag(cm).astype(float)
    precision = _div(tp, cm.sum(axis=0).astype(float))
    recall = _div(tp, cm.sum(axis=1).astype(float))
    f1 = _div(2 * precision * recall, precision + recall)
    return {"precision": precision, "recall": recall, "f1": f1, "support": cm.sum(axis=1)}


def accuracy(cm: Array) -> float:
    total = cm.sum()
    return float(np.trace(cm) / total) if total else 0.0


def macro_f1(cm: Array, present_only: bool = False) -> float:
    """Mean F1 over the scheme's classes (``present_only``: over classes in truth or prediction)."""
    f1 = per_class(cm)["f1"]
    if present_only:
        mask = (cm.sum(axis=0) + cm.sum(axis=1)) > 0
        return float(f1[mask].mean()) if mask.any() else 0.0
    return float(f1.mean())


def weighted_f1(cm: Array) -> float:
    stats = per_class(cm)
    support = stats["support"].astype(float)
    return float((stats["f1"] * support).sum() / support.sum()) if support.sum() else 0.0


def kappa(cm: Array, weights: str | None = None) -> float:
    """Cohen's kappa; ``weights`` 'linear' or 'quadratic' for ordinal scales."""
    n = cm.shape[0]
    total = cm.sum()
    if total == 0:
        return 0.0
    observed = cm / total
    expected = np.outer(cm.sum(axis=1), cm.sum(axis=0)) / total**2
    i, j = np.indices((n, n))
    if weights is None:
        w = (i != j).astype(float)
    elif weights == "linear":
        w = np.abs(i - j).astype(float)
    elif weights == "quadratic":
        w = ((i - j) ** 2).astype(float)
    else:
        raise ConfigError(f"unknown kappa weights {weights!r}; use none, linear or quadratic")
    denominator = (w * expected).sum()
    return float(1.0 - (w * observed).sum() / denominator) if denominator else 0.0


def auc_binary(truth: Array, score: Array) -> float:
    """Area under the ROC curve via the rank statistic (ties get average ranks)."""
    from scipy.stats import rankdata

    truth = np.asarray(truth).astype(bool)
    pos, neg = int(truth.sum()), int((~truth).sum())
    if pos == 0 or neg == 0:
        return float("nan")
    ranks = rankdata(score)
    return float((ranks[truth].sum() - pos * (pos + 1) / 2) / (pos * neg))


def roc_auc(y_true: Array, proba: Array) -> float:
    """Binary: AUC of the second class. Multi-class: one-vs-rest macro mean over classes present."""
    y_true = np.asarray(y_true)
    if proba.shape[1] == 2:
        return auc_binary(y_true == 1, proba[:, 1])
    scores = [auc_binary(y_true == k, proba[:, k]) for k in range(proba.shape[1])]
    valid = [s for s in scores if not np.isnan(s)]
    return float(np.mean(valid)) if valid else float("nan")


def single_label_scores(y_true: Array, y_pred: Array, proba: Array | None, scheme: LabelScheme) -> dict[str, Any]:
    """Every single-label metric, JSON-ready."""
    n = len(scheme.labels)
    cm = confusion(y_true, y_pred, n)
    stats = per_class(cm)
    out: dict[str, Any] = {
        "n": int(cm.sum()),
        "accuracy": accuracy(cm),
        "macro_f1": macro_f1(cm),
        "weighted_f1": weighted_f1(cm),
        "kappa": kappa(cm, "quadratic" if scheme.ordinal and n > 2 else None),
        "kappa_weights": "quadratic" if scheme.ordinal and n > 2 else "none",
        "per_class": {
            label: {k: float(stats[k][i]) if k != "support" else int(stats[k][i]) for k in stats}
            for i, label in enumerate(scheme.labels)
        },
        "confusion": cm.tolist(),
        "labels": list(scheme.labels),
    }
    if proba is not None:
        out["roc_auc"] = roc_auc(y_true, proba)
    return out


# -- multi-label ----------------------------------------------------------------------
def multi_label_scores(y_true: Array, y_pred: Array, proba: Array | None, scheme: LabelScheme) -> dict[str, Any]:
    """Indicator matrices in: per-label P/R/F1, micro and macro F1, subset accuracy, Hamming loss."""
    t, p = np.asarray(y_true) > 0.5, np.asarray(y_pred) > 0.5
    tp = (t & p).sum(axis=0).astype(float)
    fp = (~t & p).sum(axis=0).astype(float)
    fn = (t & ~p).sum(axis=0).astype(float)
    precision, recall = _div(tp, tp + fp), _div(tp, tp + fn)
    f1 = _div(2 * precision * recall, precision + recall)
    micro = _div(np.array([2 * tp.sum()]), np.array([2 * tp.sum() + fp.sum() + fn.sum()]))[0]
    support = t.sum(axis=0)
    out: dict[str, Any] = {
        "n": int(t.shape[0]),
        "subset_accuracy": float((t == p).all(axis=1).mean()) if len(t) else 0.0,
        "hamming_loss": float((t != p).mean()) if len(t) else 0.0,
        "micro_f1": float(micro),
        "macro_f1": float(f1.mean()),
        "weighted_f1": float((f1 * support).sum() / support.sum()) if support.sum() else 0.0,
        "per_class": {
            label: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(scheme.labels)
        },
        "labels": list(scheme.labels),
    }
    out["accuracy"] = out["subset_accuracy"]
    if proba is not None:
        aucs = [auc_binary(t[:, j], proba[:, j]) for j in range(t.shape[1])]
        valid = [a for a in aucs if not np.isnan(a)]
        out["roc_auc"] = float(np.mean(valid)) if valid else float("nan")
    return out


def scores(y_true: Array, y_pred: Array, proba: Array | None, scheme: LabelScheme) -> dict[str, Any]:
    if len(y_true) != len(y_pred):
        raise DataError(f"{len(y_true)} true labels but {len(y_pred)} predictions")
    if scheme.kind == "multi":
        return multi_label_scores(y_true, y_pred, proba, scheme)
    return single_label_scores(y_true, y_pred, proba, scheme)


# -- uncertainty ----------------------------------------------------------------------
MetricFn = Callable[[Array, Array], float]


def metric_fn(name: str, scheme: LabelScheme) -> MetricFn:
    """A fast (y_true, y_pred) -> float for bootstrapping a headline metric."""
    if scheme.kind == "multi":
        return lambda t, p: float(multi_label_scores(t, p, None, scheme)[name])
    n = len(scheme.labels)
    table: dict[str, Callable[[Array], float]] = {
        "accuracy": accuracy,
        "macro_f1": macro_f1,
        "weighted_f1": weighted_f1,
        "kappa": lambda cm: kappa(cm, "quadratic" if scheme.ordinal and n > 2 else None),
    }
    if name not in table:
        raise DataError(f"cannot bootstrap metric {name!r}; choose one of {sorted(table)}")
    fn = table[name]
    return lambda t, p: fn(confusion(t, p, n))


def bootstrap(
    y_true: Array,
    predictions: Sequence[Array],
    fn: MetricFn,
    *,
    n: int = 1000,
    seed: int = 0,
) -> Array:
    """Metric values of each prediction set on ``n`` paired resamples of the test items: shape (n, sets)."""
    rng = np.random.default_rng(seed)
    size = len(y_true)
    out = np.empty((n, len(predictions)))
    for b in range(n):
        idx = rng.integers(0, size, size)
        for k, pred in enumerate(predictions):
            out[b, k] = fn(y_true[idx], pred[idx])
    return out


def interval(values: Array, alpha: float = 0.05) -> tuple[float, float]:
    """Percentile interval, ignoring NaNs."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if not len(v):
        return (float("nan"), float("nan"))
    return (float(np.quantile(v, alpha / 2)), float(np.quantile(v, 1 - alpha / 2)))


def mean_spread(values: Sequence[float]) -> dict[str, float]:
    v = np.asarray(values, dtype=float)
    return {
        "mean": float(v.mean()),
        "std": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
        "min": float(v.min()),
        "max": float(v.max()),
    }
