"""The numpy metrics agree with scikit-learn on fixed inputs, edge cases included."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from sentiforge.evaluation import metrics
from sentiforge.labels import get_scheme

RNG = np.random.default_rng(42)


def _noisy(y: np.ndarray, n: int, flip: float) -> np.ndarray:
    pred = y.copy()
    mask = RNG.random(len(y)) < flip
    pred[mask] = RNG.integers(0, n, mask.sum())
    return pred


@pytest.mark.parametrize("n", [2, 3, 7])
def test_single_label_metrics_match_sklearn(n: int) -> None:
    y = RNG.integers(0, n, 500)
    pred = _noisy(y, n, 0.4)
    cm = metrics.confusion(y, pred, n)
    labels = list(range(n))
    assert cm.tolist() == skm.confusion_matrix(y, pred, labels=labels).tolist()
    assert metrics.accuracy(cm) == pytest.approx(skm.accuracy_score(y, pred))
    assert metrics.macro_f1(cm) == pytest.approx(skm.f1_score(y, pred, average="macro", labels=labels, zero_division=0))
    assert metrics.weighted_f1(cm) == pytest.approx(skm.f1_score(y, pred, average="weighted", zero_division=0))
    stats = metrics.per_class(cm)
    p, r, f, s = skm.precision_recall_fscore_support(y, pred, labels=labels, zero_division=0)
    np.testing.assert_allclose(stats["precision"], p)
    np.testing.assert_allclose(stats["recall"], r)
    np.testing.assert_allclose(stats["f1"], f)
    np.testing.assert_array_equal(stats["support"], s)
    for weights in (None, "linear", "quadratic"):
        assert metrics.kappa(cm, weights) == pytest.approx(skm.cohen_kappa_score(y, pred, weights=weights))


def test_zero_division_and_absent_class_count_as_zero() -> None:
    y = np.array([0, 0, 1, 1])
    pred = np.array([0, 0, 0, 0])  # class 1 never predicted, class 2 absent everywhere
    cm = metrics.confusion(y, pred, 3)
    expected = skm.f1_score(y, pred, average="macro", labels=[0, 1, 2], zero_division=0)
    assert metrics.macro_f1(cm) == pytest.approx(expected)
    assert metrics.macro_f1(cm, present_only=True) == pytest.approx(
        skm.f1_score(y, pred, average="macro", zero_division=0)
    )


def test_roc_auc_matches_sklearn_binary_and_ovr_with_ties() -> None:
    y = RNG.integers(0, 2, 300)
    score = np.round(RNG.random(300) * 0.5 + y * 0.3, 1)  # rounded: many ties
    proba = np.column_stack([1 - score, score])
    assert metrics.roc_auc(y, proba) == pytest.approx(skm.roc_auc_score(y, score))
    y3 = RNG.integers(0, 3, 400)
    logits = RNG.normal(size=(400, 3)) + np.eye(3)[y3] * 1.5
    p3 = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert metrics.roc_auc(y3, p3) == pytest.approx(skm.roc_auc_score(y3, p3, multi_class="ovr", average="macro"))


def test_multi_label_scores_match_sklearn() -> None:
    scheme = get_scheme("emotions")
    t = (RNG.random((200, len(scheme.labels))) < 0.3).astype(int)
    p = np.where(RNG.random(t.shape) < 0.2, 1 - t, t)
    s = metrics.multi_label_scores(t, p, None, scheme)
    assert s["micro_f1"] == pytest.approx(skm.f1_score(t, p, average="micro", zero_division=0))
    assert s["macro_f1"] == pytest.approx(skm.f1_score(t, p, average="macro", zero_division=0))
    assert s["weighted_f1"] == pytest.approx(skm.f1_score(t, p, average="weighted", zero_division=0))
    assert s["subset_accuracy"] == pytest.approx(skm.accuracy_score(t, p))
    assert s["hamming_loss"] == pytest.approx(skm.hamming_loss(t, p))


def test_scores_reports_quadratic_kappa_only_for_ordinal_multiclass() -> None:
    y = RNG.integers(0, 7, 300)
    pred = np.clip(y + RNG.integers(-1, 2, 300), 0, 6)
    s = metrics.scores(y, pred, None, get_scheme("seven_level"))
    assert s["kappa_weights"] == "quadratic"
    assert s["kappa"] == pytest.approx(skm.cohen_kappa_score(y, pred, weights="quadratic"))
    assert s["confusion"] == skm.confusion_matrix(y, pred, labels=list(range(7))).tolist()
    assert metrics.scores(y % 2, pred % 2, None, get_scheme("binary"))["kappa_weights"] == "none"


def test_bootstrap_interval_contains_point_and_narrows_with_data() -> None:
    fn = metrics.metric_fn("accuracy", get_scheme("binary"))
    widths = []
    for size in (100, 2000):
        y = RNG.integers(0, 2, size)
        pred = _noisy(y, 2, 0.3)
        values = metrics.bootstrap(y, [pred], fn, n=400, seed=1)
        lo, hi = metrics.interval(values[:, 0])
        assert lo <= fn(y, pred) <= hi
        widths.append(hi - lo)
    assert widths[1] < widths[0] / 2
