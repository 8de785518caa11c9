"""Classifiers from datasets: train and save one, or evaluate synthetic data against real
(Train-Synthetic-Test-Real)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sentiforge.app.requests import EvaluateRequest, TrainRequest
from sentiforge.config import DEFAULT_RUNTIME, Runtime
from sentiforge.errors import ConfigError
from sentiforge.progress import OnProgress
from sentiforge.samples import Sample, text_hash

if TYPE_CHECKING:
    from sentiforge.evaluation.report import Evaluation


def sources(db: str | None, runtime: Runtime) -> dict[str, Any]:
    """Where :func:`~sentiforge.evaluation.inputs.load_samples` finds datasets: the store at
    ``db`` and the folder of the built-in sets."""
    return {"db": db, "pool_size": runtime.db_pool_size, "datasets": runtime.datasets}


def fingerprint(samples: Sequence[Sample]) -> str:
    """An id for a training set's content: order-free hash of its texts and targets."""
    h = hashlib.blake2b(digest_size=12)
    for key in sorted(f"{text_hash(s.text)}:{s.target()}" for s in samples):
        h.update(key.encode())
    return h.hexdigest()


def train_and_score(
    samples: list[Sample], scheme: Any, kind: str, params: dict[str, Any], *, evaluate: bool, seed: int
) -> tuple[Any, dict[str, Any], int, list[Any] | None]:
    """Train on the train split (or 80% when unsplit) and score the held-out part; also the
    model's answers on the held-out texts (None without evaluation)."""
    from sentiforge.classifiers import train
    from sentiforge.classifiers.base import encode_targets, predict_all, targets_of
    from sentiforge.evaluation import metrics
    from sentiforge.io.splits import presplit, split_real

    if not evaluate:
        return train(samples, scheme, kind, **params), {}, len(samples), None
    parts = presplit(samples)
    fit_on, test = parts if parts else split_real(samples, holdout=0.2, seed=seed)
    clf = train(fit_on, scheme, kind, **params)
    texts = [s.text for s in test]
    y_true = encode_targets(targets_of(test, scheme), scheme)
    labels, proba, _ = predict_all(clf, texts)
    scores = metrics.scores(y_true, encode_targets(labels, scheme), proba, scheme)
    return clf, {"holdout": scores}, len(fit_on), list(labels)


@dataclass
class Trained:
    folder: Path
    classifier: str
    trained_on: int
    metrics: dict[str, Any]


def check_out_dir(folder: Path) -> None:
    """Refuse, before any work, a model folder that cannot be written: an existing file, a path
    under a file, or a folder this process may not write in (found after a whole build, it was
    a traceback)."""
    import os

    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"--out {folder} is a file, not a folder")
    parent = next(p for p in [folder, *folder.parents] if p.exists())
    if not parent.is_dir():
        raise ConfigError(f"--out {folder}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(f"--out {folder}: this process may not write in {parent}")


def train(request: TrainRequest, *, db: str | None = None, runtime: Runtime = DEFAULT_RUNTIME) -> Trained:
    """Train a classifier on a dataset (a store name, a file or a built-in set) and save it in
    ``out_dir``, whose folder name is the model's name (the one name rule: the service serves it)."""
    from sentiforge.evaluation.inputs import load_samples
    from sentiforge.names import check_name

    check_name(Path(request.out_dir).name, "model name (the name of the --out folder)")
    check_out_dir(Path(request.out_dir))

    samples, scheme = load_samples(request.dataset, request.scheme, **sources(db, runtime))
    samples = [s for s in samples if s.status == "accepted"]
    if request.classifier == "reasoner" and request.rationale_backend is not None:
        samples = with_rationales(samples, request.rationale_backend, runtime)
    params: dict[str, Any] = {"class_weight": request.class_weight} if request.class_weight else {}
    if request.classifier == "transformer":
        params.update(epochs=request.epochs, max_len=request.max_len)
    if request.embedder != "auto":  # TrainRequest allows a body for the embedding kind only
        params.update(embedder=request.embedder)
    if request.classifier == "reasoner":
        params.update(epochs=request.epochs, base_model=request.base_model, lora=not request.full_finetune)
        params.update(base_model_dir=runtime.model_dir)
    clf, scores, n, answers = train_and_score(
        samples, scheme, request.classifier, params, evaluate=request.evaluate, seed=request.seed
    )
    clf.info.training_data.update(source=request.dataset, fingerprint=fingerprint(samples))
    clf.info.metrics = {**clf.info.metrics, **scores}  # keeps what training recorded (loss, time)
    folder = clf.save(Path(request.out_dir))
    from sentiforge.app.drift import write_reference

    write_reference(folder, samples, answers, seed=request.seed)  # what served texts are compared with
    return Trained(folder, request.classifier, n, scores)


def with_rationales(samples: list[Sample], spec: Any, runtime: Runtime = DEFAULT_RUNTIME) -> list[Sample]:
    """Samples missing a rationale get one from the backend the spec names."""
    import asyncio

    from sentiforge.backends import from_spec
    from sentiforge.classifiers.rationales import write_rationales

    backend = from_spec(spec, runtime)

    async def run() -> list[Sample]:
        try:
            return await write_rationales(samples, backend)
        finally:
            await backend.aclose()

    return asyncio.run(run())


def evaluate(
    request: EvaluateRequest,
    *,
    db: str | None = None,
    runtime: Runtime = DEFAULT_RUNTIME,
    progress: OnProgress | None = None,
) -> Evaluation:
    """Train the same classifiers on real, synthetic and mixed data; score each on real holdout
    data. The caller writes the report (``Evaluation.write``)."""
    from sentiforge.evaluation.inputs import load_samples
    from sentiforge.evaluation.pipeline import evaluate as run

    r = request
    where = sources(db, runtime)
    real, scheme = load_samples(r.real, r.scheme, **where)
    synthetic, _ = load_samples(r.synthetic, scheme, **where)
    holdout = load_samples(r.holdout, scheme, **where)[0] if r.holdout else None
    return run(
        real,
        synthetic,
        scheme,
        holdout=holdout,
        classifiers=r.classifiers,
        holdout_fraction=r.holdout_fraction,
        seed=r.seed,
        synthetic_cap=r.cap,
        bootstrap=r.bootstrap,
        cv_folds=r.cv,
        on_leak=r.on_leak,
        embedder=None if r.embedder == "none" else r.embedder,
        params={
            "transformer": {"preset": r.transformer_preset, **({"epochs": r.epochs} if r.epochs else {})},
            "reasoner": {"epochs": r.epochs or 3, "base_model": r.base_model},
        },
        progress=progress,
        sources={"real": r.real, "synthetic": r.synthetic, **({"holdout": r.holdout} if r.holdout else {})},
    )
