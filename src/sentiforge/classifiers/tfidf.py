"""The baseline: TF-IDF word and bigram features, logistic regression. Fast, always available.

Two optional feature sets join the words: character n-grams (``char_ngrams``: robust to
typos and inflection) and VADER's lexicon scores (``lexicon``, English; the ``quality``
extra). The quality gate's seed classifier is this model with both on.

Saved as the vocabularies (JSON, in index order), the idf vectors and the head's arrays;
loading rebuilds the vectorisers from them, so no sklearn object is ever pickled.
"""

from __future__ import annotations

import functools
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
from sentiforge.errors import ConfigError, require
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
CHAR_NGRAMS: dict[str, Any] = {
    "analyzer": "char_wb",
    "ngram_range": [2, 5],
    "min_df": 2,
    "max_df": 1.0,
    "max_features": 200_000,
    "sublinear_tf": True,
    "lowercase": True,
}
LEXICON_SCALE = 3.0  # the four lexicon scores weigh like this many TF-IDF features


def lexicon_features(texts: Sequence[str]) -> np.ndarray:
    """VADER's lexicon scores (neg, neu, pos, compound) per text: English sentiment priors that
    a few thousand seeds cannot learn (on VADER tweets they lift the classifier from 0.74 to
    0.83 accuracy; see benchmarks/quality/README.md)."""
    vader: Any = require("vaderSentiment.vaderSentiment", feature="the lexicon features", extra="quality")
    analyzer = _analyzer(vader)
    rows = [analyzer.polarity_scores(t) for t in texts]
    return np.array([[r["neg"], r["neu"], r["pos"], r["compound"]] for r in rows]).reshape(-1, 4) * LEXICON_SCALE


@functools.lru_cache(maxsize=1)
def _analyzer(vader: Any) -> Any:
    return vader.SentimentIntensityAnalyzer()


class TfidfClassifier:
    kind: ClassVar[str] = "tfidf"

    def __init__(
        self,
        scheme: LabelScheme,
        *,
        C: float = 4.0,
        class_weight: str | None = None,
        vectorizer: dict[str, Any] | None = None,
        char_ngrams: bool = False,
        lexicon: bool = False,
        seed: int = 0,
    ) -> None:
        self.scheme = scheme
        unknown = set(vectorizer or {}) - set(VECTORIZER_DEFAULTS)
        if unknown:
            raise ConfigError(f"unknown TF-IDF option(s) {sorted(unknown)}; allowed: {sorted(VECTORIZER_DEFAULTS)}")
        self.vectorizer_params = {**VECTORIZER_DEFAULTS, **(vectorizer or {})}
        self.char_ngrams = char_ngrams
        self.lexicon = lexicon
        self.head = LinearHead(len(scheme.labels), multi=is_multi(scheme), C=C, class_weight=class_weight, seed=seed)
        params = {"C": C, "class_weight": class_weight, "vectorizer": self.vectorizer_params, "seed": seed}
        if char_ngrams or lexicon:  # only when on, so older model.json files stay as they were
            params.update(char_ngrams=char_ngrams, lexicon=lexicon)
        self.info = ModelInfo(kind=self.kind, scheme=scheme.model_dump(mode="json"), params=params)
        self._vectorizer: Any = None
        self._char_vectorizer: Any = None

    @staticmethod
    def _new_vectorizer(params: dict[str, Any], vocabulary: dict[str, int] | None = None) -> Any:
        from sklearn.feature_extraction.text import TfidfVectorizer

        p = dict(params)
        p["ngram_range"] = tuple(p["ngram_range"])
        if vocabulary is not None:
            p.update(vocabulary=vocabulary, min_df=1, max_df=1.0, max_features=None)
        return TfidfVectorizer(dtype=np.float32, **p)

    def fit(
        self, texts: Sequence[str], targets: Sequence[Target], *, sample_weight: Sequence[float] | None = None
    ) -> TfidfClassifier:
        y = check_training_data(texts, targets, self.scheme)
        vectorizer = self._new_vectorizer(self.vectorizer_params)
        chars = self._new_vectorizer(CHAR_NGRAMS) if self.char_ngrams else None
        try:
            parts = [vectorizer.fit_transform(list(texts))]
            if chars is not None:
                parts.append(chars.fit_transform(list(texts)))
        except ValueError as exc:  # e.g. "empty vocabulary"
            raise ConfigError(f"TF-IDF could not build features from the training texts: {exc}") from exc
        self._vectorizer, self._char_vectorizer = vectorizer, chars
        self.head.fit(self._join(parts, texts), y, sample_weight)
        self.info.thresholds = self.head.thresholds
        return self

    def features(self, texts: Sequence[str]) -> Any:
        if self._vectorizer is None:
            raise ConfigError("this classifier is not trained yet; call fit() first")
        parts = [self._vectorizer.transform(list(texts))]
        if self._char_vectorizer is not None:
            parts.append(self._char_vectorizer.transform(list(texts)))
        return self._join(parts, texts)

    def _join(self, parts: list[Any], texts: Sequence[str]) -> Any:
        """Words alone, or words, character n-grams and lexicon scores side by side."""
        if len(parts) == 1 and not self.lexicon:
            return parts[0]
        from scipy import sparse

        if self.lexicon:
            parts = [*parts, sparse.csr_matrix(lexicon_features(texts))]
        return sparse.hstack(parts, format="csr")

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
        arrays = {"idf": np.asarray(self._vectorizer.idf_), **self.head.arrays()}
        _write_vocabulary(folder / "vocabulary.json", self._vectorizer)
        if self._char_vectorizer is not None:
            _write_vocabulary(folder / "char_vocabulary.json", self._char_vectorizer)
            arrays["char_idf"] = np.asarray(self._char_vectorizer.idf_)
        save_arrays(folder / "weights.npz", **arrays)
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
            char_ngrams=p.get("char_ngrams", False),
            lexicon=p.get("lexicon", False),
            seed=p.get("seed", 0),
        )
        clf.info = info
        arrays = load_arrays(folder / "weights.npz")
        clf._vectorizer = _read_vocabulary(folder / "vocabulary.json", clf.vectorizer_params, arrays["idf"])
        if clf.char_ngrams:
            clf._char_vectorizer = _read_vocabulary(folder / "char_vocabulary.json", CHAR_NGRAMS, arrays["char_idf"])
        clf.head.coef, clf.head.intercept = arrays["coef"].astype(np.float64), arrays["intercept"].astype(np.float64)
        clf.head.thresholds = info.thresholds
        return clf


def _write_vocabulary(path: Path, vectorizer: Any) -> None:
    vocab = vectorizer.vocabulary_
    terms = sorted(vocab, key=vocab.__getitem__)
    path.write_text(json.dumps(terms, ensure_ascii=False), encoding="utf-8")


def _read_vocabulary(path: Path, params: dict[str, Any], idf: np.ndarray) -> Any:
    terms = json.loads(path.read_text(encoding="utf-8"))
    vectorizer = TfidfClassifier._new_vectorizer(params, {t: i for i, t in enumerate(terms)})
    vectorizer.idf_ = idf
    return vectorizer
