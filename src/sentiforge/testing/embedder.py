"""A deterministic stand-in for a sentence-embedding model (``get_embedder("fake")``)."""

from __future__ import annotations

import hashlib
import re

import numpy as np

from sentiforge.embeddings import normalise

_WORD = re.compile(r"\w+", re.UNICODE)


class FakeEmbedder:
    """Deterministic hashed bag of words: texts sharing words are close, others near-orthogonal."""

    name = "fake"

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.casefold()):
                digest = hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest()
                value = int.from_bytes(digest, "big")
                out[row, value % self.dim] += 1.0 if (value >> 32) & 1 else -1.0
        return normalise(out) if len(texts) else out
