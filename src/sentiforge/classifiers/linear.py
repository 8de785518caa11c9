"""A logistic-regression head stored as plain arrays.

scikit-learn trains it; prediction is numpy on the saved ``coef``/``intercept``, so a saved
model needs no pickled estimator and gives the same numbers whatever sklearn version reads
it. Single-label heads are kept in softmax form with one row per scheme label (a binary
fit ``w`` becomes rows ``-w/2, w/2``; a label absent from training gets a row that never
wins). Multi-label heads hold one sigmoid row per label plus tuned thresholds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sentiforge.classifiers.base import sigmoid, softmax, tune_thresholds

NEVER = -50.0  # intercept of a label the training data never showed


@dataclass
class LinearHead:
    n_labels: int
    multi: bool = False
    C: float = 1.0
    class_weight: str | None = None
    max_iter: int = 3000
    seed: int = 0
    coef: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    intercept: np.ndarray = field(default_factory=lambda: np.zeros(0))
    thresholds: list[float] | None = None

    def fit(
        self,
        x: Any,
        y: np.ndarray,
        sample_weight: Sequence[float] | np.ndarray | None = None,
        *,
        thresholds: bool = True,
    ) -> LinearHead:
        """Fit on features ``x``; multi-label heads also tune thresholds unless told not to."""
        w = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
        if not self.multi:
            self.coef, self.intercept = self._fit_softmax(x, y, w)
            return self
        if thresholds:
            self.thresholds = self._thresholds(x, y, w)
        self.coef, self.intercept = self._fit_sigmoids(x, y, w)
        return self

    def proba(self, x: Any) -> np.ndarray:
        scores = np.asarray(x @ self.coef.T) + self.intercept
        return sigmoid(scores) if self.multi else softmax(scores)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"coef": self.coef.astype(np.float64), "intercept": self.intercept.astype(np.float64)}

    def _estimator(self) -> Any:
        """saga: single-threaded and fast on sparse text features; lbfgs's multinomial loss runs
        OpenMP threads that crawl (40x slower) when the cores are shared with other work."""
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(
            C=self.C, class_weight=self.class_weight, max_iter=self.max_iter, random_state=self.seed, solver="saga"
        )

    def _fit_softmax(self, x: Any, y: np.ndarray, w: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        est = self._estimator().fit(x, y, sample_weight=w)
        coef, intercept = est.coef_, est.intercept_
        if coef.shape[0] == 1:  # binary: sigmoid(z) == softmax([-z/2, z/2])
            coef = np.vstack([-coef[0] / 2, coef[0] / 2])
            intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
        full_coef = np.zeros((self.n_labels, coef.shape[1]))
        full_intercept = np.full(self.n_labels, NEVER)
        for row, label_index in enumerate(est.classes_):
            full_coef[int(label_index)] = coef[row]
            full_intercept[int(label_index)] = intercept[row]
        return full_coef, full_intercept

    def _fit_sigmoids(self, x: Any, y: np.ndarray, w: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        n_features = x.shape[1]
        coef = np.zeros((self.n_labels, n_features))
        intercept = np.zeros(self.n_labels)
        for j in range(self.n_labels):
            column = y[:, j].astype(int)
            if column.min() == column.max():  # always or never present: a constant answer
                intercept[j] = -NEVER if column[0] == 1 else NEVER
                continue
            est = self._estimator().fit(x, column, sample_weight=w)
            coef[j], intercept[j] = est.coef_[0], est.intercept_[0]
        return coef, intercept

    def _thresholds(self, x: Any, y: np.ndarray, w: np.ndarray | None) -> list[float]:
        """Tune per-label cut-offs on a seeded 20% validation slice, before the final fit on all."""
        n = y.shape[0]
        if n < 20:
            return [0.5] * self.n_labels
        rng = np.random.default_rng(self.seed)
        order = rng.permutation(n)
        val, train = order[: n // 5], order[n // 5 :]
        coef, intercept = self._fit_sigmoids(x[train], y[train], None if w is None else w[train])
        proba = sigmoid(np.asarray(x[val] @ coef.T) + intercept)
        return tune_thresholds(proba, y[val])
