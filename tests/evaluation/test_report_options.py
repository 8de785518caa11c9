"""The report renders with every valid combination of the options that shape it: no embedder
(no embedding similarity, no projection), no bootstrap (no intervals), no cross-validation."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from sentiforge.evaluation.pipeline import evaluate
from sentiforge.labels import get_scheme
from sentiforge.samples import Sample

COMBINATIONS = list(itertools.product(["fake", None], [0, 20], [0, 2]))


@pytest.mark.parametrize(("embedder", "bootstrap", "cv"), COMBINATIONS)
def test_report_renders_with_every_option_combination(
    yelp_split: tuple[list[Sample], list[Sample]],
    amazon: list[Sample],
    tmp_path: Path,
    embedder: str | None,
    bootstrap: int,
    cv: int,
) -> None:
    train, hold = yelp_split
    ev = evaluate(
        [*train, *hold],
        amazon[:300],
        get_scheme("binary"),
        classifiers=["fake"],
        embedder=embedder,
        bootstrap=bootstrap,
        cv_folds=cv,
        sources={"real": "uci:yelp", "synthetic": "uci:amazon"},
    )
    paths = ev.write(tmp_path / "report")
    html = paths["html"].read_text(encoding="utf-8")
    assert "TSTR / TRTR" in html and f"{ev.primary.ratio * 100:.0f}" in html
    assert ("Cross-validation within each training set" in html) == bool(cv)
    assert ("MMD" in html) == (embedder is not None)
    if not bootstrap:
        assert "95% bootstrap interval" not in html  # no interval was computed: none is claimed
    json.loads(paths["json"].read_text())  # strict JSON either way
