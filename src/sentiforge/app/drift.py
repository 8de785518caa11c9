"""Input drift of served models: the reference a model keeps of its training texts, and a
sliding window of the texts each model was asked about, compared with it
(:class:`sentiforge.quality.drift.InputDrift`).

Training writes ``drift_reference.json`` beside the model: up to ``REFERENCE_LIMIT`` training
texts drawn at random with their labels, and the label counts of the whole training set. The
service reads it the first time a model is served (again when it changes). The windows live
in the serving process: under several Gunicorn workers each worker watches the texts it
answered, and ``/metrics`` or ``/v1/models/{id}/drift`` show the window of the worker that
answers. A model saved before references were written reports ``reference: false``.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sentiforge.quality.drift import InputDrift
from sentiforge.samples import Sample

REFERENCE = "drift_reference.json"
REFERENCE_LIMIT = 1000
NO_REFERENCE = (
    "no reference: this model was saved without a profile of its training texts (before input drift "
    "was recorded); train it again to watch its input drift"
)


def label_key(target: Any) -> str | None:
    """A label (or a multi-label set, as 'a|b') as one string for the label mix."""
    if target is None:
        return None
    if isinstance(target, list | tuple | set):
        return "|".join(sorted(map(str, target)))
    return str(target)


def write_reference(
    folder: Path, samples: Sequence[Sample], held_out_answers: Sequence[Any] | None = None, *, seed: int = 0
) -> Path:
    """Keep a profile of the training texts in the model's folder. The label mix served
    predictions are compared with is the model's own answers on its held-out texts when
    training held some out (a model answers its training texts better than new ones, so their
    true labels would make every imperfect model look drifted), else the training labels."""
    picked = list(samples)
    if len(picked) > REFERENCE_LIMIT:
        picked = random.Random(seed).sample(picked, REFERENCE_LIMIT)
    data = {
        "version": 1,
        "trained_on": len(samples),
        "label_counts": dict(Counter(label_key(s.target()) for s in samples)),
        "texts": [s.text for s in picked],
        "labels": [label_key(s.target()) for s in picked],
        "label_source": "held-out predictions" if held_out_answers else "training labels",
        "label_reference": [label_key(x) for x in held_out_answers] if held_out_answers else None,
    }
    path = Path(folder) / REFERENCE
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


class DriftWatch:
    """One window per served model, in this process."""

    def __init__(self, window: int = 500, embedder: str = "none", factor: float = 1.5, floor: float = 0.05) -> None:
        self.window = window
        self.embedder_name = embedder
        self.factor = factor
        self.floor = floor
        self._trackers: dict[str, tuple[float, InputDrift | None]] = {}
        self.warming: dict[str, threading.Thread] = {}  # the reference being embedded, per model
        self._lock = threading.Lock()

    def _embedder(self) -> Any:
        from sentiforge.quality.summary import summary_embedder

        return summary_embedder(self.embedder_name)

    def _tracker(self, name: str, folder: Path) -> InputDrift | None:
        """The model's tracker, made (or made again) when its reference file is new or changed."""
        path = folder / REFERENCE
        try:
            mtime = path.stat().st_mtime
        except OSError:
            mtime = -1.0
        with self._lock:
            known = self._trackers.get(name)
            if known is None or known[0] != mtime:
                tracker = None
                if mtime >= 0:
                    data = json.loads(path.read_text(encoding="utf-8"))
                    tracker = InputDrift(
                        data["texts"],
                        data["labels"],
                        window=self.window,
                        factor=self.factor,
                        floor=self.floor,
                        embedder=self._embedder(),
                        label_reference=data.get("label_reference"),
                        label_source=data.get("label_source", "training labels"),
                    )
                known = (mtime, tracker)
                self._trackers[name] = known
                if tracker is not None and tracker.embedder is not None:
                    self.warming[name] = threading.Thread(target=tracker.warm, name=f"drift-warm-{name}", daemon=True)
                    self.warming[name].start()
            return known[1]

    def observe(self, name: str, folder: Path, texts: Sequence[str], labels: Sequence[Any]) -> None:
        tracker = self._tracker(name, folder)
        if tracker is not None:
            with self._lock:
                tracker.observe(texts, [label_key(x) for x in labels])

    def report(self, name: str, folder: Path) -> dict[str, Any]:
        """The window's shifts, their baselines and limits, and what is flagged."""
        tracker = self._tracker(name, folder)
        if tracker is None:
            return {"model": name, "reference": False, "detail": NO_REFERENCE, "window": 0, "flagged": []}
        embedder = tracker.embedder.name if tracker.embedder is not None else "none"
        out = {"model": name, "reference": True, "embedder": embedder, "label_source": tracker.label_source}
        return {**out, **tracker.report()}

    def watched(self) -> list[str]:
        """The models this process has a window for (those it served, or was asked about)."""
        with self._lock:
            return sorted(name for name, (_, tracker) in self._trackers.items() if tracker is not None)
