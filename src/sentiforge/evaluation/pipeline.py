"""One call from real + synthetic data to every number and figure: :func:`evaluate`.

The real data is split (or its stored train/holdout splits are used) before anything
else; TSTR runs per classifier; the similarity and bias sections explain *why* the
ratio is what it is. ``Evaluation.write`` renders the HTML report and its JSON.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, Literal

from sentiforge.classifiers.registry import factory
from sentiforge.errors import ConfigError, DataError
from sentiforge.evaluation.bias import BiasAudit, Thresholds, audit
from sentiforge.evaluation.report import Evaluation
from sentiforge.evaluation.tstr import TSTRConfig, TSTRResult, run_tstr
from sentiforge.io.splits import dedupe, presplit, split_real
from sentiforge.labels import LabelScheme
from sentiforge.progress import OnProgress, Update
from sentiforge.samples import Sample


def prepare_real(
    real: Sequence[Sample], holdout: Sequence[Sample] | None, fraction: float, seed: int
) -> tuple[list[Sample], list[Sample], str]:
    """Real train and holdout, and how they were obtained (for the report)."""
    if holdout is not None:
        return dedupe(real), dedupe(holdout), "holdout given separately"
    given = presplit(real)
    if given is not None:
        return dedupe(given[0]), dedupe(given[1]), "splits stored with the real data"
    train, hold = split_real(real, holdout=fraction, seed=seed)
    return train, hold, f"split here: stratified, seed {seed}, {fraction:.0%} holdout"


def _language(samples: Sequence[Sample]) -> str:
    return Counter(s.language for s in samples).most_common(1)[0][0] if samples else "en"


def evaluate(
    real: Sequence[Sample],
    synthetic: Sequence[Sample],
    scheme: LabelScheme,
    *,
    holdout: Sequence[Sample] | None = None,
    classifiers: Sequence[str] = ("tfidf",),
    params: dict[str, dict[str, Any]] | None = None,
    holdout_fraction: float = 0.3,
    seed: int = 0,
    synthetic_cap: float = 0.6,
    bootstrap: int = 1000,
    cv_folds: int = 5,
    on_leak: Literal["drop", "error"] = "drop",
    embedder: str | None = "auto",
    bias_thresholds: Thresholds | None = None,
    progress: OnProgress | None = None,
    sources: dict[str, str] | None = None,
) -> Evaluation:
    """TSTR for each classifier, distribution similarity and a bias audit, on the real holdout."""
    def say(stage: str) -> None:
        if progress:
            progress(Update(stage=stage))

    synthetic = _checked(classifiers, synthetic)
    started = time.perf_counter()
    real_train, hold, how = prepare_real(real, holdout, holdout_fraction, seed)
    language = _language(real_train)
    if embedder == "auto":
        embedder = "minilm" if language.split("-")[0].lower() == "en" else "multilingual"
    base = TSTRConfig(synthetic_cap=synthetic_cap, bootstrap=bootstrap, cv_folds=cv_folds, seed=seed)
    base.on_leak, base.language = on_leak, language
    results = {
        kind: _tstr(kind, (params or {}).get(kind, {}), embedder, base, real_train, hold, synthetic, scheme, say)
        for kind in classifiers
    }
    say("distribution similarity")
    from sentiforge.evaluation.similarity import compare

    similarity = compare(real_train, synthetic, embedder=embedder, seed=seed)
    say("bias audit")
    bias = _bias(next(iter(results.values())), synthetic, hold, bias_thresholds)
    sizes = {"real_train": len(real_train), "holdout": len(hold), "synthetic": len(synthetic)}
    meta = _meta(how, sizes, language, embedder, seed, classifiers, sources, started)
    return Evaluation(scheme, results, similarity, bias, meta)


def _checked(classifiers: Sequence[str], synthetic: Sequence[Sample]) -> list[Sample]:
    """The accepted synthetic samples; a clear error when there is nothing to evaluate."""
    if not classifiers:
        raise ConfigError("name at least one classifier (tfidf, embedding, transformer)")
    accepted = [s for s in synthetic if s.status == "accepted"]
    if not accepted:
        raise DataError("the synthetic data holds no accepted samples")
    return accepted


def _meta(
    how: str,
    sizes: dict[str, int],
    language: str,
    embedder: str | None,
    seed: int,
    classifiers: Sequence[str],
    sources: dict[str, str] | None,
    started: float,
) -> dict[str, Any]:
    """What the report says about how the evaluation ran."""
    return {
        "split": how,
        "sizes": sizes,
        "language": language,
        "embedder": embedder,
        "seed": seed,
        "classifiers": list(classifiers),
        "sources": sources or {},
        "seconds": round(time.perf_counter() - started, 2),
        "created_at": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def _tstr(
    kind: str,
    params: dict[str, Any],
    embedder: str | None,
    base: TSTRConfig,
    real_train: list[Sample],
    hold: list[Sample],
    synthetic: list[Sample],
    scheme: LabelScheme,
    say: Callable[[str], None],
) -> TSTRResult:
    say(f"TSTR with the {kind} classifier")
    kind_params = dict(params)
    if kind == "embedding" and embedder:
        kind_params.setdefault("embedder", embedder)
    if kind == "transformer":  # sized for minutes on a CPU unless a GPU trains it (or told otherwise)
        kind_params.setdefault("preset", "auto")
    cfg = replace(base, classifier=kind, params=kind_params)
    make = factory(kind, scheme, language=base.language, **kind_params)
    return run_tstr(real_train, hold, synthetic, scheme, make, cfg)


def _bias(
    primary: TSTRResult, synthetic: list[Sample], hold: list[Sample], thresholds: Thresholds | None
) -> dict[str, BiasAudit]:
    """Synthetic samples judged by the real-trained model; the real holdout by the synthetic-trained one."""
    trtr_model = primary.models["trtr"]
    return {
        "synthetic": audit(
            synthetic,
            predictions=_targets(trtr_model.predict([s.text for s in synthetic])),
            name="synthetic (errors: real-trained model)",
            thresholds=thresholds,
        ),
        "holdout": audit(
            hold,
            predictions=primary.settings["tstr"].predictions,
            name="real holdout (errors: synthetic-trained model)",
            thresholds=thresholds,
        ),
    }


def _targets(predictions: Sequence[Any]) -> list[str]:
    return ["+".join(p) if isinstance(p, list) else str(p) for p in predictions]
