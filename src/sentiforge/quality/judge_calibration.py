"""How far the label judge can be trusted, label by label, and the offsets that correct it.

A small model's label probabilities are biased (the 1.5B model puts most customer messages
on a polar label), but they rank texts well. A calibration adds one offset per label to the
log-probabilities, fitted on labelled real text to maximise the mean recall over labels
(balanced accuracy, then accuracy on ties): the decision becomes ``argmax(log p + offset)``,
i.e. per-label thresholds. Its report gives each label's precision and recall measured by
cross-validation (offsets fitted on the other folds), before and after, so what a user
reads is what the judge does on text it was not fitted on.

Where the labelled text comes from (:func:`calibration_texts`): the job's seeds when there
are enough per label, else a packaged real set of the same kind (VADER tweets binned to the
scheme for 3/5/7 levels, the UCI review sentences for binary). Fitted calibrations are kept
as JSON (``save``/``load``) keyed by the judge (backend key, prompt, labels), so a model is
calibrated once per machine; the default model's calibration ships with sentiforge.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from sentiforge.errors import QualityError
from sentiforge.labels import LabelScheme
from sentiforge.samples import Sample

GRID = np.arange(-6.0, 6.01, 0.25)  # offsets tried per label, in nats
FLOOR = 1e-6  # a label the judge gave no probability still gets log(FLOOR)
PACKAGED_DIR = Path(__file__).resolve().parent / "calibrations"
MIN_PER_LABEL = 8  # seeds per label below which the packaged set is used instead


class LabelReliability(BaseModel):
    precision: float | None
    recall: float | None
    support: int


class JudgeCalibration(BaseModel):
    """Per-label offsets and the cross-validated reliability they give (and gave before)."""

    model_config = ConfigDict(extra="forbid")

    labels: list[str]
    offsets: list[float]
    source: str  # "seeds" or "packaged:vader-tweets" ...
    judge_id: str = ""  # backend key + prompt id the offsets were fitted for
    n: int = 0
    abstained: int = 0
    balanced_accuracy: float | None = None
    accuracy: float | None = None
    balanced_accuracy_uncalibrated: float | None = None
    per_label: dict[str, LabelReliability] = Field(default_factory=dict)
    per_label_uncalibrated: dict[str, LabelReliability] = Field(default_factory=dict)

    def check(self, scheme: LabelScheme) -> None:
        if list(scheme.labels) != self.labels:
            raise QualityError(f"a judge calibration for labels {self.labels} cannot serve scheme '{scheme.name}'")

    def decide(self, probs: np.ndarray) -> str:
        return self.labels[int(np.argmax(np.log(np.maximum(probs, FLOOR)) + np.asarray(self.offsets)))]

    def summary(self) -> str:
        """One line a user reads: where it was fitted, and each label's precision / recall."""
        rows = ", ".join(
            f"{label} P {_fmt(r.precision)} R {_fmt(r.recall)}" for label, r in self.per_label.items()
        )
        return (
            f"judge calibrated on {self.n} texts ({self.source}); cross-validated balanced accuracy "
            f"{_fmt(self.balanced_accuracy)} (uncalibrated {_fmt(self.balanced_accuracy_uncalibrated)}): {rows}"
        )

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(self.model_dump_json(indent=2), encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> JudgeCalibration | None:
        try:
            return cls.model_validate_json(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def judge_id(backend_key: str, prompt_id: str, labels: Sequence[str]) -> str:
    return hashlib.sha256(json.dumps([backend_key, prompt_id, list(labels)]).encode()).hexdigest()[:16]


def _log(probs: np.ndarray) -> np.ndarray:
    return np.log(np.maximum(probs, FLOOR))


def _predict(logp: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    return np.argmax(logp + offsets, axis=1)


def _balanced(pred: np.ndarray, y: np.ndarray, k: int) -> tuple[float, float]:
    recalls = [float(np.mean(pred[y == c] == c)) for c in range(k) if np.any(y == c)]
    return float(np.mean(recalls)), float(np.mean(pred == y))


def fit_offsets(logp: np.ndarray, y: np.ndarray, *, sweeps: int = 4) -> np.ndarray:
    """Offsets (the first label's fixed at 0) maximising balanced accuracy, then accuracy:
    coordinate ascent over a grid, a few sweeps (K <= 7 labels, a few hundred texts)."""
    k = logp.shape[1]
    offsets = np.zeros(k)
    best = _balanced(_predict(logp, offsets), y, k)
    for _ in range(sweeps):
        improved = False
        for c in range(1, k):
            for value in GRID:
                trial = offsets.copy()
                trial[c] = value
                score = _balanced(_predict(logp, trial), y, k)
                if score > best or (score == best and abs(value) < abs(offsets[c]) and trial[c] != offsets[c]):
                    best, offsets, improved = score, trial, True
        if not improved:
            break
    return offsets


def _reliability(pred: np.ndarray, y: np.ndarray, labels: Sequence[str]) -> dict[str, LabelReliability]:
    out = {}
    for c, label in enumerate(labels):
        said, real = pred == c, y == c
        hit = int(np.sum(said & real))
        out[label] = LabelReliability(
            precision=round(hit / int(said.sum()), 3) if said.any() else None,
            recall=round(hit / int(real.sum()), 3) if real.any() else None,
            support=int(real.sum()),
        )
    return out


def calibrate(
    probs: Sequence[np.ndarray | None], truth: Sequence[str], labels: Sequence[str], *, source: str, folds: int = 5
) -> JudgeCalibration:
    """Fit offsets on scored texts (None: the judge abstained, left out) and measure them by
    ``folds``-fold cross-validation; the returned offsets are fitted on all texts."""
    kept = [(p, labels.index(t)) for p, t in zip(probs, truth, strict=True) if p is not None and t in labels]
    if len(kept) < 2 * len(labels):
        raise QualityError(f"calibrating the judge needs scored texts of every label; got {len(kept)} usable")
    logp = _log(np.stack([p for p, _ in kept]))
    y = np.array([c for _, c in kept])
    k = len(labels)
    order = np.random.default_rng(0).permutation(len(y))
    pred = np.empty_like(y)
    for f in range(folds):
        test = order[f::folds]
        train = np.setdiff1d(order, test)
        pred[test] = _predict(logp[test], fit_offsets(logp[train], y[train]))
    raw = _predict(logp, np.zeros(k))
    balanced, accuracy = _balanced(pred, y, k)
    return JudgeCalibration(
        labels=list(labels),
        offsets=[round(float(x), 3) for x in fit_offsets(logp, y)],
        source=source,
        n=len(y),
        abstained=len(probs) - len(kept),
        balanced_accuracy=round(balanced, 3),
        accuracy=round(accuracy, 3),
        balanced_accuracy_uncalibrated=round(_balanced(raw, y, k)[0], 3),
        per_label=_reliability(pred, y, labels),
        per_label_uncalibrated=_reliability(raw, y, labels),
    )


def packaged_set(scheme: LabelScheme) -> tuple[str, list[Sample]]:
    """The packaged real texts of the same kind as the scheme, with labels in its terms."""
    from sentiforge.io.datasets import EDGES, load_uci, load_vader

    if scheme.labels == ("negative", "positive"):
        return "packaged:uci-sentences", [s for name in ("yelp", "amazon", "imdb") for s in load_uci(name)]
    if scheme.name in EDGES:
        return "packaged:vader-tweets", load_vader("tweets", scheme)
    raise QualityError(
        f"no packaged real set matches scheme '{scheme.name}'; calibrate the judge on your seeds "
        "(--seeds DATASET with labelled texts of every label)"
    )


def calibration_texts(
    scheme: LabelScheme, seeds: Sequence[Sample] | None, *, per_label: int = 40, seed: int = 0
) -> tuple[str, list[Sample]]:
    """Labelled texts to calibrate on, balanced by label: the seeds when each label has at
    least MIN_PER_LABEL of them, else the packaged set of the same kind."""
    usable = [s for s in seeds or [] if s.label in scheme.labels]
    counts = Counter(str(s.label) for s in usable)
    if usable and all(counts[label] >= MIN_PER_LABEL for label in scheme.labels):
        source, pool = "seeds", usable
    else:
        source, pool = packaged_set(scheme)
    rng = random.Random(seed)
    chosen: list[Sample] = []
    for label in scheme.labels:
        texts = [s for s in pool if s.label == label]
        rng.shuffle(texts)
        chosen += texts[:per_label]
    return source, chosen


def packaged_calibration(backend_key: str, scheme: LabelScheme, prompt_id: str) -> JudgeCalibration | None:
    """The calibration shipped with sentiforge for this judge, if any."""
    wanted = judge_id(backend_key, prompt_id, scheme.labels)
    for path in sorted(PACKAGED_DIR.glob("*.json")):
        found = JudgeCalibration.load(path)
        if found is not None and found.judge_id == wanted:
            return found
    return None


def describe(calibration: JudgeCalibration) -> dict[str, Any]:
    """The calibration as a job summary shows it."""
    return {
        "source": calibration.source,
        "n": calibration.n,
        "balanced_accuracy": calibration.balanced_accuracy,
        "balanced_accuracy_uncalibrated": calibration.balanced_accuracy_uncalibrated,
        "per_label": {k: v.model_dump() for k, v in calibration.per_label.items()},
    }


__all__ = [
    "JudgeCalibration",
    "LabelReliability",
    "calibrate",
    "calibration_texts",
    "describe",
    "fit_offsets",
    "judge_id",
    "packaged_calibration",
    "packaged_set",
]
