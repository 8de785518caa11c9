"""Train-Synthetic-Test-Real: the same classifier, three training sets, one real holdout.

- TRTR: train on the real train split (the reference),
- TSTR: train on the synthetic data only,
- MIX:  real train plus synthetic, the synthetic share capped (60% by default),

each scored on the real holdout, which is checked for leakage first. The headline is
TSTR/TRTR on the chosen metric, with a paired bootstrap interval (every resample scores
all three models on the same holdout items, so the ratio's interval is honest).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from sentiforge.classifiers.base import Classifier, encode_targets, fit_samples, predict_all, targets_of
from sentiforge.errors import ConfigError, DataError
from sentiforge.evaluation import metrics
from sentiforge.labels import LabelScheme
from sentiforge.quality.leakage import LeakageReport, check_leakage, drop_positions
from sentiforge.samples import Sample

SETTINGS = ("trtr", "tstr", "mix")
TITLES = {
    "trtr": "train real / test real",
    "tstr": "train synthetic / test real",
    "mix": "train real+synthetic / test real",
}


@dataclass
class TSTRConfig:
    classifier: str = "tfidf"
    params: dict[str, Any] = field(default_factory=dict)
    synthetic_cap: float = 0.6  # most the synthetic part may be of the mixed training set
    metric: str = "macro_f1"  # the headline
    bootstrap: int = 1000
    cv_folds: int = 5  # 0 skips cross-validation
    seed: int = 0
    on_leak: Literal["drop", "error"] = "drop"
    language: str = "en"

    def __post_init__(self) -> None:
        if not 0.0 <= self.synthetic_cap < 1.0:
            raise ConfigError(f"synthetic_cap must be in [0, 1), got {self.synthetic_cap}")
        if self.cv_folds == 1 or self.cv_folds < 0:
            raise ConfigError(f"cv_folds must be 0 (off) or at least 2, got {self.cv_folds}")


@dataclass
class SettingResult:
    name: str
    train_size: int
    synthetic_share: float
    train_labels: dict[str, int]
    scores: dict[str, Any]
    ci: dict[str, tuple[float, float]]
    seconds: float
    predictions: list[Any] = field(default_factory=list, repr=False)
    # classifiers that write rationales (the reasoner): a sample of holdout errors with them
    explained_errors: list[dict[str, str]] = field(default_factory=list)


@dataclass
class TSTRResult:
    scheme: str
    classifier: str
    metric: str
    holdout_size: int
    settings: dict[str, SettingResult]
    ratio: float
    ratio_ci: tuple[float, float]
    leakage: dict[str, Any]
    cv: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    models: dict[str, Classifier] = field(default_factory=dict, repr=False)  # not serialised

    def headline(self) -> str:
        s = self.settings
        return (
            f"{self.classifier}: {self.metric} TRTR {s['trtr'].scores[self.metric]:.3f}, "
            f"TSTR {s['tstr'].scores[self.metric]:.3f}, MIX {s['mix'].scores[self.metric]:.3f}; "
            f"TSTR/TRTR {self.ratio:.1%} (95% CI {self.ratio_ci[0]:.1%}-{self.ratio_ci[1]:.1%})"
        )

    def to_dict(self) -> dict[str, Any]:
        models, self.models = self.models, {}
        try:
            out = asdict(self)
        finally:
            self.models = models
        out.pop("models")
        for setting in out["settings"].values():
            setting.pop("predictions", None)
        return out


def cap_synthetic(real: Sequence[Sample], synthetic: Sequence[Sample], cap: float, seed: int) -> list[Sample]:
    """Real plus at most as much synthetic as keeps its share <= cap (a seeded random subset)."""
    limit = int(np.floor(cap / (1.0 - cap) * len(real) + 1e-9)) if cap > 0 else 0
    if len(synthetic) <= limit:
        return [*real, *synthetic]
    keep = np.sort(np.random.default_rng(seed).choice(len(synthetic), size=limit, replace=False))
    return [*real, *(synthetic[i] for i in keep)]


def guard_leakage(
    holdout: Sequence[Sample], real_train: Sequence[Sample], synthetic: Sequence[Sample], on_leak: str
) -> tuple[list[Sample], list[Sample], LeakageReport]:
    """Check before scoring; drop leaked training items or refuse, as configured."""
    report = check_leakage(holdout, real_train=real_train, synthetic=synthetic)
    if not report.clean and on_leak == "error":
        raise DataError(
            f"{report.leaked} training item(s) copy a holdout text ({report.summary()['leaked']}); "
            "make synthetic data only from the real train split, or pass on_leak='drop' to remove them"
        )
    return (
        drop_positions(real_train, report.positions.get("real_train", [])),
        drop_positions(synthetic, report.positions.get("synthetic", [])),
        report,
    )


def _fit_predict(
    make: Callable[[], Classifier],
    train: Sequence[Sample],
    test: Sequence[Sample],
    scheme: LabelScheme,
) -> tuple[np.ndarray, np.ndarray, Classifier, list[str] | None]:
    """Predictions, probabilities, the model, and its rationales when it writes them."""
    clf = make()
    fit_samples(clf, train, scheme)
    labels, proba, rationales = predict_all(clf, [s.text for s in test])
    return encode_targets(labels, scheme), proba, clf, rationales


def explained_errors(
    holdout: Sequence[Sample], predicted: list[str], rationales: list[str] | None, scheme: LabelScheme, k: int = 12
) -> list[dict[str, str]]:
    """The first k holdout items the model got wrong, each with the rationale it wrote."""
    if rationales is None:
        return []
    truth = [_key(t) for t in targets_of(holdout, scheme)]
    rows = zip(holdout, truth, predicted, rationales, strict=True)
    wrong = [{"text": s.text, "truth": t, "predicted": p, "rationale": r} for s, t, p, r in rows if t != p]
    return wrong[:k]


def run_tstr(
    real_train: Sequence[Sample],
    holdout: Sequence[Sample],
    synthetic: Sequence[Sample],
    scheme: LabelScheme,
    make: Callable[[], Classifier],
    config: TSTRConfig | None = None,
) -> TSTRResult:
    cfg = config or TSTRConfig()
    if not holdout or not real_train or not synthetic:
        raise DataError(
            f"TSTR needs real train, holdout and synthetic samples; got {len(real_train)}, "
            f"{len(holdout)} and {len(synthetic)}"
        )
    real_train, synthetic, leak = guard_leakage(holdout, real_train, synthetic, cfg.on_leak)
    y_true = encode_targets(targets_of(holdout, scheme), scheme)
    sets = {
        "trtr": list(real_train),
        "tstr": list(synthetic),
        "mix": cap_synthetic(real_train, synthetic, cfg.synthetic_cap, cfg.seed),
    }
    preds: dict[str, np.ndarray] = {}
    models: dict[str, Classifier] = {}
    results: dict[str, SettingResult] = {}
    for name, train in sets.items():
        results[name], preds[name], models[name] = _setting(name, train, len(real_train), holdout, y_true, scheme, make)
    ratio, ratio_ci = _bootstrap(y_true, preds, results, scheme, cfg)
    cv = {}
    if cfg.cv_folds:
        cv = {
            "real_train": cross_validate(make, real_train, scheme, cfg.cv_folds, cfg.seed),
            "synthetic": cross_validate(make, synthetic, scheme, cfg.cv_folds, cfg.seed),
        }
    return TSTRResult(
        scheme=scheme.name,
        classifier=cfg.classifier,
        metric=cfg.metric,
        holdout_size=len(holdout),
        settings=results,
        ratio=ratio,
        ratio_ci=ratio_ci,
        leakage=leak.summary(),
        cv=cv,
        # what the synthetic-trained model ran with, presets resolved (e.g. the transformer's cpu preset)
        config={**asdict(cfg), "model_params": dict(models["tstr"].info.params)},
        models=models,
    )


def _setting(
    name: str,
    train: list[Sample],
    n_real: int,
    holdout: Sequence[Sample],
    y_true: np.ndarray,
    scheme: LabelScheme,
    make: Callable[[], Classifier],
) -> tuple[SettingResult, np.ndarray, Classifier]:
    """Train one setting's model and score it on the holdout."""
    started = time.perf_counter()
    pred, proba, model, rationales = _fit_predict(make, train, holdout, scheme)
    n_syn = {"trtr": 0, "tstr": len(train), "mix": len(train) - n_real}[name]
    result = SettingResult(
        name=name,
        train_size=len(train),
        synthetic_share=n_syn / len(train),
        train_labels=dict(Counter(_key(t) for t in targets_of(train, scheme))),
        scores=metrics.scores(y_true, pred, proba, scheme),
        ci={},
        seconds=time.perf_counter() - started,
        predictions=_keys(pred, scheme),
    )
    result.explained_errors = explained_errors(holdout, result.predictions, rationales, scheme)
    return result, pred, model


def _keys(encoded: np.ndarray, scheme: LabelScheme) -> list[str]:
    """Encoded predictions back to target strings (multi-label sets joined with '+')."""
    if encoded.ndim == 2:
        return ["+".join(scheme.labels[j] for j in np.flatnonzero(row)) for row in encoded]
    return [scheme.labels[int(i)] for i in encoded]


def _key(target: Any) -> str:
    return "+".join(target) if isinstance(target, list) else str(target)


def _bootstrap(
    y_true: np.ndarray,
    preds: dict[str, np.ndarray],
    results: dict[str, SettingResult],
    scheme: LabelScheme,
    cfg: TSTRConfig,
) -> tuple[float, tuple[float, float]]:
    """Fill each setting's intervals; return the headline ratio and its paired interval."""
    headline = results["trtr"].scores[cfg.metric]
    ratio = results["tstr"].scores[cfg.metric] / headline if headline else float("nan")
    if cfg.bootstrap <= 0:
        return ratio, (float("nan"), float("nan"))
    names = list(SETTINGS)
    ratio_ci = (float("nan"), float("nan"))
    for metric in dict.fromkeys([cfg.metric, "accuracy"]):
        values = metrics.bootstrap(
            y_true, [preds[n] for n in names], metrics.metric_fn(metric, scheme), n=cfg.bootstrap, seed=cfg.seed
        )
        for k, n in enumerate(names):
            results[n].ci[metric] = metrics.interval(values[:, k])
        if metric == cfg.metric:
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio_ci = metrics.interval(values[:, 1] / values[:, 0])
    return ratio, ratio_ci


def cross_validate(
    make: Callable[[], Classifier], samples: Sequence[Sample], scheme: LabelScheme, k: int = 5, seed: int = 0
) -> dict[str, Any]:
    """Stratified k-fold within one dataset: mean and spread of macro-F1 and accuracy."""
    from sklearn.model_selection import KFold, StratifiedKFold

    targets = [_key(t) for t in targets_of(samples, scheme)]
    counts = Counter(targets)
    if len(samples) < 2 * k:
        return {"skipped": f"only {len(samples)} samples for {k} folds"}
    stratified = scheme.kind != "multi" and min(counts.values()) >= k
    splitter = (
        StratifiedKFold(k, shuffle=True, random_state=seed) if stratified else KFold(k, shuffle=True, random_state=seed)
    )
    folds: dict[str, list[float]] = {"macro_f1": [], "accuracy": []}
    for train_idx, test_idx in splitter.split(np.zeros(len(samples)), targets):
        train = [samples[i] for i in train_idx]
        if len({targets[i] for i in train_idx}) < 2:
            continue
        test = [samples[i] for i in test_idx]
        pred, proba, _, _ = _fit_predict(make, train, test, scheme)
        s = metrics.scores(encode_targets(targets_of(test, scheme), scheme), pred, proba, scheme)
        folds["macro_f1"].append(s["macro_f1"])
        folds["accuracy"].append(s["accuracy"])
    return {
        "k": k,
        "stratified": stratified,
        "folds": folds,
        **{m: metrics.mean_spread(v) for m, v in folds.items() if v},
    }
