"""Input drift of served predictions: a sliding window of the texts a model was asked about,
compared with the texts it was trained on.

Three shifts, each next to a real-vs-real baseline (the same measure between two halves of
the training texts, so "how different is normal" comes from the data, not a guess):

- length: the Kolmogorov-Smirnov distance of the length distributions (in words, 0..1);
- vocabulary: the Jensen-Shannon divergence of the word distributions, and the share of
  window words the training texts never used;
- label mix: the total variation distance of predicted labels to the reference labels (the
  model's answers on held-out texts when given as ``label_reference``, else the training labels).

A shift is flagged when it exceeds ``factor`` times its baseline plus a small ``floor``.
With an embedder, the distance between the centres of the window's and the training texts'
embeddings is a fifth shift (its baseline likewise from the two halves). Baselines are taken
at the window's current size, so a window that is still filling is not flagged for its noise.
"""

from __future__ import annotations

import math
import random
import re
import threading
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

_WORD = re.compile(r"[\w']+")
MEASURES = ("length", "vocabulary", "unseen_words", "label_mix")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _ks(a: Sequence[float], b: Sequence[float]) -> float:
    """The Kolmogorov-Smirnov distance of the two samples, 0 (no shift seen) when one is empty."""
    from sentiforge.evaluation.similarity import ks_distance

    return ks_distance(a, b) if len(a) and len(b) else 0.0


def js_divergence(a: Counter[str], b: Counter[str]) -> float:
    """Jensen-Shannon divergence (base 2, 0..1) of two word counts."""
    ta, tb = sum(a.values()) or 1, sum(b.values()) or 1
    out = 0.0
    for w in set(a) | set(b):
        p, q = a[w] / ta, b[w] / tb
        m = (p + q) / 2
        out += (p * math.log2(p / m) if p else 0.0) + (q * math.log2(q / m) if q else 0.0)
    return out / 2


def _tv(a: Counter[str], b: Counter[str]) -> float:
    ta, tb = sum(a.values()) or 1, sum(b.values()) or 1
    return 0.5 * sum(abs(a[k] / ta - b[k] / tb) for k in set(a) | set(b))


@dataclass
class _Profile:
    lengths: list[float]
    words: Counter[str]
    labels: Counter[str]

    @classmethod
    def of(cls, texts: Iterable[str], labels: Iterable[str | None]) -> _Profile:
        tokens = [_words(t) for t in texts]
        words: Counter[str] = Counter(w for ws in tokens for w in ws)
        return cls([float(len(ws)) for ws in tokens], words, Counter(x for x in labels if x))


def _shifts(ref: _Profile, win: _Profile) -> dict[str, float]:
    total = sum(win.words.values()) or 1
    return {
        "length": _ks(ref.lengths, win.lengths),
        "vocabulary": js_divergence(ref.words, win.words),
        "unseen_words": sum(n for w, n in win.words.items() if w not in ref.words) / total,
        "label_mix": _tv(ref.labels, win.labels) if win.labels and ref.labels else 0.0,
    }


def centroid_distance(a: Any, b: Any) -> float:
    """1 - the cosine of the two clouds' mean vectors (0: same centre)."""
    import numpy as np

    if len(a) == 0 or len(b) == 0:
        return 0.0
    ca, cb = a.mean(axis=0), b.mean(axis=0)
    return float(1.0 - ca @ cb / ((np.linalg.norm(ca) * np.linalg.norm(cb)) or 1.0))


@dataclass
class InputDrift:
    """Watches served texts against the training texts; ``report()`` says what shifted.

    With an ``embedder`` a fifth measure, ``embedding``, is the distance between the centres
    of the window's and the training texts' embeddings. Served texts are embedded at report
    time, each once, so the prediction path never waits for the embedder. Nothing is flagged
    before the window holds ``min_window`` texts.
    """

    train_texts: Sequence[str]
    train_labels: Sequence[str | None]
    window: int = 500
    factor: float = 1.5
    floor: float = 0.05
    min_window: int = 30
    embedder: Any = None
    label_reference: Sequence[str | None] | None = None
    label_source: str = "training labels"
    _texts: deque[list[Any]] = field(init=False)

    def __post_init__(self) -> None:
        self._texts = deque(maxlen=self.window)
        order = random.Random(0).sample(range(len(self.train_texts)), len(self.train_texts))
        self._train = [(self.train_texts[i], self.train_labels[i]) for i in order]  # halves need no sort order
        self.ref = _Profile.of(self.train_texts, self.train_labels)
        labels = list(self.label_reference) if self.label_reference else list(self.train_labels)
        self._labels = random.Random(1).sample(labels, len(labels))
        self.ref.labels = Counter(x for x in labels if x)
        self._baselines: dict[int, dict[str, float]] = {}
        self._ref_vectors: Any = None
        self._ref_lock = threading.Lock()
        self.measures = MEASURES + (("embedding",) if self.embedder is not None else ())

    def _reference_vectors(self) -> Any:
        with self._ref_lock:
            if self._ref_vectors is None:
                self._ref_vectors = self.embedder.encode([t for t, _ in self._train])
            return self._ref_vectors

    def warm(self) -> None:
        """Embed the training texts now (a serving process calls this on a background thread
        when a model is first served, so the first report or scrape does not wait for it)."""
        if self.embedder is not None:
            self._reference_vectors()

    def _baseline(self, size: int) -> dict[str, float]:
        """The shifts between two parts of the training data, the smaller as large as the
        window now is (small windows vary more, so their baseline is larger)."""
        n = max(1, min(size, len(self._train) // 2))
        if n not in self._baselines:
            a, b = self._train[:-n], self._train[-n:]
            pa = _Profile.of((t for t, _ in a), (x for _, x in a))
            pb = _Profile.of((t for t, _ in b), (x for _, x in b))
            out = _shifts(pa, pb)
            m = max(1, min(size, len(self._labels) // 2))
            out["label_mix"] = _tv(
                Counter(x for x in self._labels[:-m] if x), Counter(x for x in self._labels[-m:] if x)
            )
            if self.embedder is not None:
                vectors = self._reference_vectors()
                out["embedding"] = centroid_distance(vectors[:-n], vectors[-n:])
            self._baselines[n] = out
        return self._baselines[n]

    @property
    def baseline(self) -> dict[str, float]:
        return self._baseline(self.window)

    def observe(self, texts: Iterable[str], labels: Iterable[str | None] | None = None) -> None:
        texts = list(texts)
        for text, label in zip(texts, labels if labels is not None else [None] * len(texts), strict=True):
            self._texts.append([text, label, None])

    def _window_vectors(self) -> Any:
        """The window's embeddings; texts not embedded yet are embedded now, once."""
        import numpy as np

        items = list(self._texts)
        todo = [item for item in items if item[2] is None]
        if todo:
            for item, vector in zip(todo, self.embedder.encode([item[0] for item in todo]), strict=True):
                item[2] = vector
        return np.stack([item[2] for item in items]) if items else np.zeros((0, 1))

    def report(self) -> dict[str, object]:
        items = list(self._texts)
        win = _Profile.of((t for t, _, _ in items), (x for _, x, _ in items))
        now = _shifts(self.ref, win)
        if self.embedder is not None:
            now["embedding"] = centroid_distance(self._reference_vectors(), self._window_vectors()) if items else 0.0
        base = self._baseline(len(items) or self.window)
        limits = {k: self.factor * base[k] + self.floor for k in self.measures}
        ready = len(items) >= min(self.min_window, self.window)
        return {
            "window": len(items),
            "shift": {k: round(v, 4) for k, v in now.items()},
            "baseline": {k: round(v, 4) for k, v in base.items()},
            "limit": {k: round(v, 4) for k, v in limits.items()},
            "flagged": sorted(k for k in self.measures if now[k] > limits[k]) if ready else [],
        }
