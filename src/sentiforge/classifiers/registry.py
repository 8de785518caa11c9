"""Classifier kinds by name, and loading a saved model folder whatever its kind.

Loading reads ``model.json`` first and dispatches on its ``kind``; every kind's weights are
in safe formats, so opening a model folder from elsewhere never runs code.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sentiforge.classifiers.base import Classifier, ModelInfo, fit_samples, read_info
from sentiforge.errors import ConfigError, DataError
from sentiforge.labels import LabelScheme
from sentiforge.samples import Sample

BODY_OPTION = {"embedding": "embedder", "contrastive": "body"}  # kinds whose sentence body follows the language


def _builtin() -> dict[str, Any]:
    from sentiforge.classifiers.contrastive import ContrastiveClassifier
    from sentiforge.classifiers.embedding import EmbeddingClassifier
    from sentiforge.classifiers.reasoner import ReasonerClassifier
    from sentiforge.classifiers.tfidf import TfidfClassifier
    from sentiforge.classifiers.transformer import TransformerClassifier

    return {
        "tfidf": TfidfClassifier,
        "embedding": EmbeddingClassifier,
        "transformer": TransformerClassifier,
        "reasoner": ReasonerClassifier,
        "contrastive": ContrastiveClassifier,
    }


BUILTIN = ("tfidf", "embedding", "transformer", "reasoner", "contrastive")
_REGISTERED: dict[str, type] = {}


def register_classifier(cls: type) -> type:
    """Make a classifier class buildable and loadable by its ``kind`` (usable as a decorator), from
    a ``sentiforge.plugins`` entry point: :mod:`sentiforge.testing` registers the ``fake`` kind."""
    _REGISTERED[cls.kind] = cls  # type: ignore[attr-defined]
    return cls


def kinds() -> tuple[str, ...]:
    """Every classifier kind: the built-in ones, then those registered."""
    from sentiforge.plugins import load_plugins

    load_plugins()
    return (*BUILTIN, *(k for k in _REGISTERED if k not in BUILTIN))


def _classes() -> dict[str, Any]:
    from sentiforge.plugins import load_plugins

    load_plugins()
    return {**_builtin(), **_REGISTERED}


def _base_models(cls: Any, base_model_dir: Path | None) -> dict[str, Any]:
    """The folder packaged base models are joined into, for the kinds that load one (the
    reasoner); the settings' model folder, handed down from an entry point."""
    return {"base_model_dir": base_model_dir} if getattr(cls, "uses_base_models", False) else {}


def build_classifier(
    kind: str, scheme: LabelScheme, *, language: str = "en", base_model_dir: Path | None = None, **params: Any
) -> Classifier:
    """A new, untrained classifier. Kinds with a sentence body (embedding, contrastive) pick the
    multilingual one for non-English data."""
    classes = _classes()
    if kind not in classes:
        raise ConfigError(f"unknown classifier {kind!r}; choose one of {list(kinds())}")
    params.update(_base_models(classes[kind], base_model_dir))
    body = "minilm" if language.split("-")[0].lower() == "en" else "multilingual"
    if kind in BODY_OPTION and BODY_OPTION[kind] not in params:
        params[BODY_OPTION[kind]] = body
    try:
        return classes[kind](scheme, **params)
    except TypeError as exc:
        raise ConfigError(f"bad options for the {kind} classifier: {exc}") from exc


def factory(kind: str, scheme: LabelScheme, **params: Any) -> Callable[[], Classifier]:
    """A zero-argument builder: what TSTR and cross-validation call for each fresh model."""
    build_classifier(kind, scheme, **dict(params))  # fail early on bad options
    return lambda: build_classifier(kind, scheme, **dict(params))


def load_classifier(path: str | Path, *, base_model_dir: Path | None = None, **kwargs: Any) -> Classifier:
    """A saved model, whatever its kind (a reasoner's base model joined into ``base_model_dir``)."""
    folder = Path(path)
    info: ModelInfo = read_info(folder)
    classes = _classes()
    if info.kind not in classes:
        raise DataError(f"{folder} holds a model of unknown kind {info.kind!r}; known kinds: {list(kinds())}")
    return classes[info.kind].load(folder, info, **_base_models(classes[info.kind], base_model_dir), **kwargs)


def train(
    samples: Sequence[Sample],
    scheme: LabelScheme,
    kind: str = "tfidf",
    *,
    dataset: dict[str, Any] | None = None,
    **params: Any,
) -> Classifier:
    """Train a classifier on samples and record what it was trained on in its metadata."""
    if not samples:
        raise DataError("no samples to train on")
    language = Counter(s.language for s in samples).most_common(1)[0][0]
    clf = build_classifier(kind, scheme, language=language, **params)
    targets = fit_samples(clf, samples, scheme)
    counts = Counter("+".join(t) if isinstance(t, list) else t for t in targets)
    clf.info.training_data = {**(dataset or {}), "size": len(samples), "labels": dict(counts), "language": language}
    return clf
