"""The ``fake`` classifier kind: naive Bayes over words, for tests of the evaluation plumbing."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np

from sentiforge.classifiers.base import (
    ModelInfo,
    Target,
    check_training_data,
    decode,
    is_multi,
    load_arrays,
    read_info,
    save_arrays,
    sigmoid,
    softmax,
    versions,
    write_info,
)
from sentiforge.errors import ConfigError
from sentiforge.labels import LabelScheme

_WORD = re.compile(r"\w+", re.UNICODE)


class FakeClassifier:
    """Multinomial naive Bayes over lower-cased words: deterministic, instant, dependency-free.

    A real (if small) learner, so tests of evaluation plumbing see genuine signal, and a
    reference for what the saved-folder format looks like.
    """

    kind: ClassVar[str] = "fake"

    def __init__(self, scheme: LabelScheme, *, alpha: float = 1.0) -> None:
        self.scheme = scheme
        self.alpha = alpha
        self.info = ModelInfo(kind=self.kind, scheme=scheme.model_dump(mode="json"), params={"alpha": alpha})
        self.vocab: dict[str, int] = {}
        self.log_prior = np.zeros(0)
        self.log_like = np.zeros((0, 0))

    def fit(
        self, texts: Sequence[str], targets: Sequence[Target], *, sample_weight: Sequence[float] | None = None
    ) -> FakeClassifier:
        y = check_training_data(texts, targets, self.scheme)
        y_mat = y if y.ndim == 2 else np.eye(len(self.scheme.labels))[y]
        w = np.ones(len(texts)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        tokens = [_WORD.findall(t.casefold()) for t in texts]
        self.vocab = {w_: i for i, w_ in enumerate(sorted({tok for toks in tokens for tok in toks}))}
        counts = np.zeros((len(texts), len(self.vocab)))
        for row, toks in enumerate(tokens):
            for tok in toks:
                counts[row, self.vocab[tok]] += w[row]
        prior, like = self._naive_bayes(counts, y_mat * w[:, None])
        if is_multi(self.scheme):  # one "has label" vs "has not" model per label, as log-odds
            prior_not, like_not = self._naive_bayes(counts, (1 - y_mat) * w[:, None])
            prior, like = prior - prior_not, like - like_not
        self.log_prior, self.log_like = prior, like
        return self

    def _naive_bayes(self, counts: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Smoothed log prior and log word likelihoods per column of ``weights``."""
        class_w = weights.sum(axis=0)
        prior = np.log((class_w + self.alpha) / (len(counts) + 2 * self.alpha))
        smoothed = weights.T @ counts + self.alpha
        return prior, np.log(smoothed / smoothed.sum(axis=1, keepdims=True))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        if not self.vocab:
            raise ConfigError("this classifier is not trained yet; call fit() first")
        scores = np.tile(self.log_prior, (len(texts), 1))
        for i, text in enumerate(texts):
            for tok in _WORD.findall(text.casefold()):
                j = self.vocab.get(tok)
                if j is not None:
                    scores[i] += self.log_like[:, j]
        return sigmoid(scores) if is_multi(self.scheme) else softmax(scores)

    def predict(self, texts: Sequence[str]) -> list[Target]:
        return decode(self.predict_proba(texts), self.scheme)

    def save(self, path: str | Path) -> Path:
        folder = Path(path)
        self.info.versions = versions()
        write_info(folder, self.info)
        (folder / "vocab.json").write_text(json.dumps(sorted(self.vocab, key=self.vocab.__getitem__)), encoding="utf-8")
        save_arrays(folder / "weights.npz", log_prior=self.log_prior, log_like=self.log_like)
        return folder

    @classmethod
    def load(cls, path: str | Path, info: ModelInfo | None = None) -> FakeClassifier:
        folder = Path(path)
        info = info or read_info(folder)
        clf = cls(LabelScheme.model_validate(info.scheme), **info.params)
        clf.info = info
        words = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
        clf.vocab = {w: i for i, w in enumerate(words)}
        arrays = load_arrays(folder / "weights.npz")
        clf.log_prior, clf.log_like = arrays["log_prior"], arrays["log_like"]
        return clf
