"""The classifier seam: fit, predict, predict_proba, save, load.

Every classifier (TF-IDF, embedding, fine-tuned transformer, the fake in ``testing``) speaks strings:
``fit`` takes texts and targets, ``predict`` returns labels of the scheme. Targets are one
label per text for single-label and aspect schemes (an aspect sample counts by its first
aspect's polarity, see :meth:`Sample.target`) and a list of labels per text for multi-label
schemes, where probabilities are per-label sigmoids cut at per-label thresholds.

A saved model is a folder: ``model.json`` (kind, scheme, training data id, metrics,
library versions, parameters) beside weights in safe formats (.npz read with
``allow_pickle=False``, safetensors, JSON). Nothing is ever unpickled.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeAlias, runtime_checkable

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from sentiforge.errors import ConfigError, DataError, LabelError
from sentiforge.labels import LabelScheme
from sentiforge.samples import Sample

Target: TypeAlias = str | list[str]
META_FILE = "model.json"
FORMAT_VERSION = 1


class ModelInfo(BaseModel):
    """What a saved model carries besides its weights."""

    model_config = ConfigDict(extra="forbid")

    format_version: int = FORMAT_VERSION
    kind: str
    scheme: dict[str, Any]
    params: dict[str, Any] = Field(default_factory=dict)
    training_data: dict[str, Any] = Field(default_factory=dict)  # dataset id/name, size, label counts
    metrics: dict[str, Any] = Field(default_factory=dict)
    thresholds: list[float] | None = None  # multi-label: one per label
    versions: dict[str, str] = Field(default_factory=dict)
    created_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))


@runtime_checkable
class Classifier(Protocol):
    kind: ClassVar[str]
    scheme: LabelScheme
    info: ModelInfo

    def fit(
        self, texts: Sequence[str], targets: Sequence[Target], *, sample_weight: Sequence[float] | None = None
    ) -> Any: ...

    def predict(self, texts: Sequence[str]) -> list[Target]: ...

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray: ...

    def save(self, path: str | Path) -> Path: ...


# -- targets <-> arrays ---------------------------------------------------------------
def is_multi(scheme: LabelScheme) -> bool:
    return scheme.kind == "multi"


def targets_of(samples: Sequence[Sample], scheme: LabelScheme) -> list[Target]:
    """The training target of each sample under the scheme (labels list for multi-label)."""
    if is_multi(scheme):
        return [list(s.labels or ([s.label] if s.label else [])) for s in samples]
    return [s.target() for s in samples]


def fit_samples(clf: Classifier, samples: Sequence[Sample], scheme: LabelScheme) -> list[Target]:
    """Fit on samples. Classifiers that learn from rationales (``uses_rationales``) get them, and
    those that pair a seed with its augmented variants (``uses_groups``) get each sample's family."""
    targets = targets_of(samples, scheme)
    extra: dict[str, Any] = {}
    if getattr(clf, "uses_rationales", False):
        extra["rationales"] = [s.rationale for s in samples]
    if getattr(clf, "uses_groups", False):
        extra["groups"] = [family(s) for s in samples]
    clf.fit([s.text for s in samples], targets, **extra)
    return targets


def predict_all(clf: Classifier, texts: Sequence[str]) -> tuple[list[Target], np.ndarray, list[str] | None]:
    """Labels, probabilities and, from classifiers that write one, the rationale per text, in one
    pass (the reasoner would otherwise generate its rationales twice)."""
    explain = getattr(clf, "predict_with_rationale", None)
    if explain is None:
        return clf.predict(texts), clf.predict_proba(texts), None
    answers = explain(texts)
    proba = np.array([[a.scores[label] for label in clf.scheme.labels] for a in answers], dtype=np.float64)
    return (
        [a.label for a in answers],
        proba.reshape(len(answers), len(clf.scheme.labels)),
        [a.rationale for a in answers],
    )


def family(sample: Sample) -> str | None:
    """The seed a sample comes from: its parent's id, or its own id (None when it has neither)."""
    seed = sample.provenance.parent_id if sample.provenance.parent_id is not None else sample.id
    return None if seed is None else str(seed)


def encode_targets(targets: Sequence[Target], scheme: LabelScheme) -> np.ndarray:
    """Class indices (single) or a 0/1 indicator matrix (multi), LabelError on unknown labels."""
    if is_multi(scheme):
        y = np.zeros((len(targets), len(scheme.labels)), dtype=np.float32)
        for i, t in enumerate(targets):
            for label in scheme.normalize_set(list(t) if not isinstance(t, str) else t):
                y[i, scheme.labels.index(label)] = 1.0
        return y
    out = np.empty(len(targets), dtype=np.int64)
    for i, t in enumerate(targets):
        if not isinstance(t, str):
            raise LabelError(f"scheme '{scheme.name}' is single-label; target {i} is {t!r}")
        out[i] = scheme.labels.index(scheme.normalize(t))
    return out


def decode(proba: np.ndarray, scheme: LabelScheme, thresholds: Sequence[float] | None = None) -> list[Target]:
    """Labels from probabilities: argmax, or every label over its threshold (at least the top one)."""
    if not is_multi(scheme):
        return [scheme.labels[i] for i in np.argmax(proba, axis=1)]
    cut = np.asarray(thresholds if thresholds is not None else [0.5] * len(scheme.labels))
    out: list[Target] = []
    for row in proba:
        chosen = [j for j in np.argsort(-row) if row[j] >= cut[j]][: scheme.max_labels]
        out.append([scheme.labels[j] for j in sorted(chosen or [int(np.argmax(row))])])
    return out


def check_training_data(texts: Sequence[str], targets: Sequence[Target], scheme: LabelScheme) -> np.ndarray:
    """Encoded targets, after the checks every classifier needs before it trains."""
    if len(texts) != len(targets):
        raise DataError(f"got {len(texts)} texts but {len(targets)} targets")
    if not texts:
        raise DataError("cannot train a classifier on an empty dataset")
    y = encode_targets(targets, scheme)
    present = (y.sum(axis=0) > 0).sum() if is_multi(scheme) else len(set(y.tolist()))
    if present < 2:
        raise DataError(f"the training data holds only {present} distinct label(s); a classifier needs at least two")
    return y


def tune_thresholds(proba: np.ndarray, y: np.ndarray, grid: Sequence[float] | None = None) -> list[float]:
    """Per-label cut-off that maximises that label's F1 on validation data (0.5 if it never occurs)."""
    grid = grid or [round(x, 2) for x in np.arange(0.05, 0.96, 0.05)]
    out = []
    for j in range(y.shape[1]):
        truth = y[:, j] > 0.5
        if not truth.any():
            out.append(0.5)
            continue
        best, best_f1 = 0.5, -1.0
        for t in grid:
            pred = proba[:, j] >= t
            tp = float(np.sum(pred & truth))
            f1 = 2 * tp / (pred.sum() + truth.sum()) if pred.sum() + truth.sum() else 0.0
            if f1 > best_f1 + 1e-12:
                best, best_f1 = float(t), f1
        out.append(best)
    return out


def versions(*modules: str) -> dict[str, str]:
    """Installed versions of the libraries a model was trained with."""
    from importlib import metadata

    out = {}
    for name in ("sentiforge", "numpy", *modules):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


# -- folders ------------------------------------------------------------------------
def write_info(folder: Path, info: ModelInfo) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / META_FILE).write_text(
        json.dumps(info.model_dump(mode="json"), indent=2, ensure_ascii=False), encoding="utf-8"
    )


def read_info(folder: str | Path) -> ModelInfo:
    path = Path(folder) / META_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DataError(
            f"{folder} is not a saved sentiforge model (no {META_FILE}); train one with `sentiforge train`"
        ) from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"cannot read {path}: {exc}") from exc
    try:
        info = ModelInfo.model_validate(data)
    except ValueError as exc:
        raise DataError(f"{path} is not valid model metadata: {exc}") from exc
    if info.format_version > FORMAT_VERSION:
        raise DataError(f"{folder} was saved by a newer sentiforge (format {info.format_version}); upgrade to load it")
    return info


def save_arrays(path: Path, **arrays: np.ndarray) -> None:
    for name, value in arrays.items():
        if value.dtype == object:
            raise ConfigError(f"array {name!r} has dtype object and would need pickle; convert it first")
    np.savez_compressed(path, **arrays)  # type: ignore[arg-type]


def load_arrays(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read the weights {path}: {exc}") from exc


def sigmoid(x: np.ndarray) -> np.ndarray:
    return np.where(x >= 0, 1.0 / (1.0 + np.exp(-np.abs(x))), np.exp(-np.abs(x)) / (1.0 + np.exp(-np.abs(x))))


def softmax(x: np.ndarray) -> np.ndarray:
    z = x - x.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)
