"""The baseline: TF-IDF word and bigram features, logistic regression. Fast, always available.

Saved as the vocabulary (JSON, in index order), the idf vector and the head's arrays; loading
rebuilds the vectoriser from them, so no sklearn object is ever pickled.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

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
    versions,
    write_info,
)
from sentiforge.classifiers.linear import LinearHead
from sentiforge.errors import ConfigError
from sentiforge.labels import LabelScheme

VECTORIZER_DEFAULTS: dict[str, Any] = {
    "ngram_range": [1, 2],
    "min_df": 1,
    "max_df": 1.0,
    "max_features": 200_000,
    "sublinear_tf": True,
    "lowercase": True,
    "strip_accents": "unicode",
}


class TfidfClassifier:
    kind: ClassVar[str] = "tfidf"

    def __init__(
        self,
        scheme: LabelScheme,
        *,
        C: float = 4.0,
        class_weight: str | None = None,
        vectorizer: dict[str, Any] | None = None,
        seed: int = 0,
    ) -> None:
        self.scheme = scheme
        unknown = set(vectorizer or {}) - set(VECTORIZER_DEFAULTS)
        if unknown:
            raise ConfigError(f"unknown TF-IDF option(s) {sorted(unknown)}; allowed: {sorted(VECTORIZER_DEFAULTS)}")
        self.vectorizer_params = {**VECTORIZER_DEFAULTS, **(vectorizer or {})}
        self.head = LinearHead(len(scheme.labels), multi=is_multi(scheme), C=C, class_weight=class_weight, seed=seed)
        params = {"C": C, "class_weight": class_weight, "vectorizer": self.vectorizer_params, "seed": seed}
        self.info = ModelInfo(kind=self.kind, scheme=scheme.model_dump(mode="json"), params=params)
        self._vectorizer: Any = None

    def _new_vectorizer(self, vocabulary: dict[str, int] | None = None) -> Any:
        from sklearn.feature_extraction.text import TfidfVectorizer

        p = dict(self.vectorizer_params)
        p["ngram_range"] = tuple(p["ngram_range"])
        if vocabulary is not None:
            p.update(vocabulary=vocabulary, min_df=1, max_df=1.0, max_features=None)
        return TfidfVectorizer(dtype=np.float32, **p)

    def fit(
        self, texts: Sequence[str], targets: Sequence[Target], *, sample_weight: Sequence[float] | None = None
    ) -> TfidfClassifier:
        y = check_training_data(texts, targets, self.scheme)
        vectorizer = self._new_vectorizer()
        try:
            x = vectorizer.fit_transform(list(texts))
        except ValueError as exc:  # e.g. "empty vocabulary"
            raise ConfigError(f"TF-IDF could not build features from the training texts: {exc}") from exc
        self.head.fit(x, y, sample_weight)
        self._vectorizer = vectorizer
        self.info.thresholds = self.head.thresholds
        return self

    def features(self, texts: Sequence[str]) -> Any:
        if self._vectorizer is None:
            raise ConfigError("this classifier is not trained yet; call fit() first")
        return self._vectorizer.transform(list(texts))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self.head.proba(self.features(texts))

    def predict(self, texts: Sequence[str]) -> list[Target]:
        return decode(self.predict_proba(texts), self.scheme, self.head.thresholds)

    def save(self, path: str | Path) -> Path:
        folder = Path(path)
        if self._vectorizer is None:
            raise ConfigError("cannot save an untrained classifier; call fit() first")
        self.info.versions = versions("scikit-learn")
        write_info(folder, self.info)
        vocab = self._vectorizer.vocabulary_
        terms = sorted(vocab, key=vocab.__getitem__)
        (folder / "vocabulary.json").write_text(json.dumps(terms, ensure_ascii=False), encoding="utf-8")
        save_arrays(folder / "weights.npz", idf=np.asarray(self._vectorizer.idf_), **self.head.arrays())
        return folder

    @classmethod
    def load(cls, path: str | Path, info: ModelInfo | None = None) -> TfidfClassifier:
        folder = Path(path)
        info = info or read_info(folder)
        p = info.params
        clf = cls(
            LabelScheme.model_validate(info.scheme),
            C=p["C"],
            class_weight=p["class_weight"],
            vectorizer=p["vectorizer"],
            seed=p.get("seed", 0),
        )
        clf.info = info
        terms = json.loads((folder / "vocabulary.json").read_text(encoding="utf-8"))
        arrays = load_arrays(folder / "weights.npz")
        vectorizer = clf._new_vectorizer({t: i for i, t in enumerate(terms)})
        vectorizer.idf_ = arrays["idf"]
        clf._vectorizer = vectorizer
        clf.head.coef, clf.head.intercept = arrays["coef"].astype(np.float64), arrays["intercept"].astype(np.float64)
        clf.head.thresholds = info.thresholds
        return clf
