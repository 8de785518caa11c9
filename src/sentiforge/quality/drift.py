"""Input drift of served predictions: a sliding window of the texts a model was asked about,
compared with the texts it was trained on.

Three shifts, each next to a real-vs-real baseline (the same measure between two halves of
the training texts, so "how different is normal" comes from the data, not a guess):

- length: the difference of median lengths in words, over the training texts' spread (IQR);
- vocabulary: the Jensen-Shannon divergence of the word distributions, and the share of
  window words the training texts never used;
- label mix: the total variation distance of predicted labels to the training labels.

A shift is flagged when it exceeds ``factor`` times its baseline plus a small ``floor``.
Embedding distance is not measured here (it needs an embedder per served model).
"""

from __future__ import annotations

import math
import re
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

_WORD = re.compile(r"[\w']+")
MEASURES = ("length", "vocabulary", "unseen_words", "label_mix")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _median(values: Sequence[float]) -> float:
    s = sorted(values)
    n = len(s)
    return 0.0 if n == 0 else (s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2)


def _iqr(values: Sequence[float]) -> float:
    s = sorted(values)
    return max(1.0, s[(3 * len(s)) // 4] - s[len(s) // 4]) if s else 1.0


def _js(a: Counter[str], b: Counter[str]) -> float:
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


def _shifts(ref: _Profile, win: _Profile, spread: float) -> dict[str, float]:
    total = sum(win.words.values()) or 1
    return {
        "length": abs(_median(win.lengths) - _median(ref.lengths)) / spread,
        "vocabulary": _js(ref.words, win.words),
        "unseen_words": sum(n for w, n in win.words.items() if w not in ref.words) / total,
        "label_mix": _tv(ref.labels, win.labels) if win.labels and ref.labels else 0.0,
    }


@dataclass
class InputDrift:
    """Watches served texts against the training texts; ``report()`` says what shifted."""

    train_texts: Sequence[str]
    train_labels: Sequence[str | None]
    window: int = 500
    factor: float = 1.5
    floor: float = 0.05
    _texts: deque[tuple[str, str | None]] = field(init=False)

    def __post_init__(self) -> None:
        self._texts = deque(maxlen=self.window)
        self.ref = _Profile.of(self.train_texts, self.train_labels)
        self.spread = _iqr(self.ref.lengths)
        self.baseline = self._baseline()

    def _baseline(self) -> dict[str, float]:
        """The shifts between two halves of the training data (each as large as the window)."""
        texts, labels = list(self.train_texts), list(self.train_labels)
        n = min(self.window, len(texts) // 2)
        a = _Profile.of(texts[:-n] if n else texts, labels[:-n] if n else labels)
        b = _Profile.of(texts[-n:] if n else [], labels[-n:] if n else [])
        return _shifts(a, b, self.spread)

    def observe(self, texts: Iterable[str], labels: Iterable[str | None] | None = None) -> None:
        texts = list(texts)
        for text, label in zip(texts, labels if labels is not None else [None] * len(texts), strict=True):
            self._texts.append((text, label))

    def report(self) -> dict[str, object]:
        win = _Profile.of((t for t, _ in self._texts), (x for _, x in self._texts))
        now = _shifts(self.ref, win, self.spread)
        limits = {k: self.factor * self.baseline[k] + self.floor for k in MEASURES}
        flagged = sorted(k for k in MEASURES if now[k] > limits[k]) if self._texts else []
        return {
            "window": len(self._texts),
            "shift": {k: round(v, 4) for k, v in now.items()},
            "baseline": {k: round(v, 4) for k, v in self.baseline.items()},
            "limit": {k: round(v, 4) for k, v in limits.items()},
            "flagged": flagged,
        }
