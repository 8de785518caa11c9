"""Serving saved classifiers: list the models folder, load a model once, answer texts.

The folder is scanned on every listing (a ``stat`` per model), and a loaded model is kept
until its ``model.json`` changes, so a model trained while the service runs (a train job
saves into the same folder) is listed and served without a restart, and a retrained one
replaces the old one at its next request. Every text answered also goes into the model's
input-drift window (app/drift.py).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from sentiforge.app.drift import DriftWatch
from sentiforge.errors import ConfigError, NotFoundError, SentiforgeError


class ModelPublic(BaseModel):
    """A saved classifier as the service lists it."""

    id: str
    kind: str
    scheme: str
    labels: list[str]
    multi_label: bool
    training_data: dict[str, Any]
    fingerprint: str | None
    metrics: dict[str, Any]
    created_at: str
    default: bool = False


class Prediction(BaseModel):
    """A label, every label's score, and the rationale from a model that writes one (the
    reasoner); null from the others."""

    label: str | list[str]
    scores: dict[str, float]
    rationale: str | None = None


@dataclass
class _Loaded:
    mtime: float
    classifier: Any


class ModelRegistry:
    """The classifiers in one folder (each a sub-folder saved by ``train``), loaded on demand."""

    def __init__(
        self, folder: Path, default: str = "", watch: DriftWatch | None = None, base_model_dir: Path | None = None
    ) -> None:
        self.folder = Path(folder)
        self.base_model_dir = base_model_dir  # where a reasoner's packaged base model is joined
        self.default = default
        self.watch = watch or DriftWatch()
        self._loaded: dict[str, _Loaded] = {}
        self._lock = threading.Lock()

    def _folders(self) -> dict[str, Path]:
        if not self.folder.is_dir():
            return {}
        return {p.name: p for p in self.folder.iterdir() if (p / "model.json").is_file()}

    def models(self) -> list[ModelPublic]:
        from sentiforge.classifiers.base import read_info

        found = []
        default = self.default_id()
        for name, path in sorted(self._folders().items()):
            try:
                info = read_info(path)
            except SentiforgeError:
                continue  # a half-written or foreign folder is not offered
            scheme = info.scheme
            found.append(
                ModelPublic(
                    id=name,
                    kind=info.kind,
                    scheme=str(scheme.get("name", "")),
                    labels=list(scheme.get("labels", [])),
                    multi_label=scheme.get("kind") == "multi",
                    training_data=info.training_data,
                    fingerprint=info.training_data.get("fingerprint"),
                    metrics=info.metrics,
                    created_at=info.created_at,
                    default=name == default,
                )
            )
        return found

    def default_id(self) -> str | None:
        """The configured default model, else the most recently saved one."""
        folders = self._folders()
        if self.default:
            return self.default if self.default in folders else None
        if not folders:
            return None
        return max(folders, key=lambda n: (folders[n] / "model.json").stat().st_mtime)

    def get(self, model: str | None = None) -> tuple[str, Any]:
        """The model's id and its loaded classifier (loaded again when its files changed)."""
        from sentiforge.classifiers import load_classifier

        name = model or self.default_id()
        if name is None:
            raise NotFoundError(
                "no classifier to serve in the classifiers folder (SENTIFORGE_CLASSIFIERS_DIR)"
                + (f" (the default '{self.default}' is missing)" if self.default else "")
                + "; train one with POST /v1/jobs/train or `sentiforge train --out`"
            )
        mtime = self._mtime(name)
        if mtime is None:
            raise NotFoundError(f"no model named '{name}'; GET /v1/models lists them")
        with self._lock:
            loaded = self._loaded.get(name)
            if loaded is None or loaded.mtime != mtime:
                loaded = _Loaded(mtime, load_classifier(self.folder / name, base_model_dir=self.base_model_dir))
                self._loaded[name] = loaded
        return name, loaded.classifier

    def _mtime(self, name: str) -> float | None:
        """When the model was saved: one ``stat``, not a listing of the folder (a request names
        one model), and nothing for a name that is not a plain folder name."""
        if name in (".", "..") or "/" in name or "\\" in name:
            return None
        try:
            return (self.folder / name / "model.json").stat().st_mtime
        except (OSError, ValueError):  # missing, not a folder, or a NUL in the name
            return None

    def predict(self, texts: Sequence[str], model: str | None = None) -> tuple[str, list[Prediction]]:
        """Labels and per-label scores for each text, from the named or the default model."""
        if not texts:
            raise ConfigError("give at least one text")
        if any(not t.strip() for t in texts):
            raise ConfigError("a text to classify is empty")
        from sentiforge.classifiers.base import decode, predict_all

        name, clf = self.get(model)
        why: list[str | None] = [None] * len(texts)
        if hasattr(clf, "predict_with_rationale"):  # labels, scores and rationales in one pass
            answers, proba, written = predict_all(clf, list(texts))
            why = list(written or why)
        else:  # one pass: a single-label answer is the argmax of the scores; a multi-label one
            proba = clf.predict_proba(list(texts))  # needs the model's own per-label thresholds
            answers = clf.predict(list(texts)) if clf.scheme.kind == "multi" else decode(proba, clf.scheme)
        labels = list(clf.scheme.labels)
        out = [
            Prediction(
                label=label,
                scores={lab: round(float(p), 4) for lab, p in zip(labels, row, strict=True)},
                rationale=reason,
            )
            for label, row, reason in zip(answers, proba, why, strict=True)
        ]
        self.watch.observe(name, self.folder / name, texts, list(answers))
        return name, out

    def build_report(self, model: str) -> str:
        """The page ``sentiforge build`` wrote beside a model it built (404 when there is none)."""
        if self._mtime(model) is None:
            raise NotFoundError(f"no model named '{model}'; GET /v1/models lists them")
        page = self.folder / model / "build.html"
        if not page.is_file():
            raise NotFoundError(f"model '{model}' was not made by `sentiforge build`: it has no build report")
        return page.read_text(encoding="utf-8")

    def drift(self, model: str) -> dict[str, Any]:
        """The input drift of a model's served texts in this process (404 for an unknown model)."""
        if self._mtime(model) is None:
            raise NotFoundError(f"no model named '{model}'; GET /v1/models lists them")
        return self.watch.report(model, self.folder / model)
