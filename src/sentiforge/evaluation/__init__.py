"""Does the synthetic data train a model that works on real data? Splits, metrics, TSTR,
distribution similarity, bias audit and the HTML report.

    from sentiforge.evaluation import evaluate, load_samples
    real, scheme = load_samples("vader:tweets")
    synthetic, _ = load_samples("my-synthetic-dataset", scheme, db="sqlite:///sentiforge.db")
    ev = evaluate(real, synthetic, scheme, classifiers=["tfidf", "embedding"])
    print(ev.headline()); ev.write("report/")

Heavy imports stay inside the submodules' functions; the names below load on first use.
"""

from __future__ import annotations

from typing import Any

_LAZY = {
    "evaluate": "sentiforge.evaluation.pipeline",
    "Evaluation": "sentiforge.evaluation.pipeline",
    "load_samples": "sentiforge.evaluation.inputs",
    "run_tstr": "sentiforge.evaluation.tstr",
    "TSTRConfig": "sentiforge.evaluation.tstr",
    "split_real": "sentiforge.io.splits",
    "check_leakage": "sentiforge.quality.leakage",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sentiforge.evaluation' has no attribute {name!r}")
