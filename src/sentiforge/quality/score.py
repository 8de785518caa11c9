"""The per-sample quality score: a weighted mean of the sub-scores of the checks that ran.

Weights come from ``QualityConfig.weights`` (a check without a weight counts 1). A check
that did not run on a sample (an earlier check rejected it) does not count: the score says
how good the sample looked to the checks that saw it, and the status says whether it stays.
"""

from __future__ import annotations

from collections.abc import Mapping

from sentiforge.quality.base import CheckResult


def quality_score(results: Mapping[str, CheckResult], weights: Mapping[str, float]) -> float:
    total = 0.0
    weight_sum = 0.0
    for name, result in results.items():
        weight = float(weights.get(name, 1.0))
        total += weight * min(1.0, max(0.0, float(result.score)))
        weight_sum += weight
    return round(total / weight_sum, 4) if weight_sum > 0 else 1.0
