"""The report: self-contained HTML with every figure, JSON of every figure, and it renders."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from sentiforge.evaluation import evaluate as public_evaluate
from sentiforge.evaluation.pipeline import Evaluation, evaluate
from sentiforge.labels import get_scheme
from sentiforge.samples import Sample

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def evaluation(yelp_split: tuple[list[Sample], list[Sample]], amazon: list[Sample]) -> Evaluation:
    train, hold = yelp_split
    rng = np.random.default_rng(0)
    synthetic = [
        s.model_copy(
            update={"attributes": {"domain": str(rng.choice(["phones", "chargers", "cases"])), "length": "short"}}
        )
        for s in amazon
    ]
    return evaluate(
        [*train, *hold],
        synthetic,
        get_scheme("binary"),
        classifiers=["tfidf", "fake"],
        embedder="fake",
        bootstrap=100,
        cv_folds=3,
        sources={"real": "uci:yelp", "synthetic": "uci:amazon (stand-in)"},
    )


def test_evaluation_uses_stored_splits_and_reports_every_section(evaluation: Evaluation) -> None:
    assert evaluation.meta["split"] == "splits stored with the real data"
    assert set(evaluation.tstr) == {"tfidf", "fake"}
    assert evaluation.primary.classifier == "tfidf"
    assert evaluation.similarity is not None and "projection" in evaluation.similarity
    assert set(evaluation.bias) == {"synthetic", "holdout"}
    assert evaluation.bias["synthetic"].overall_error is not None
    assert "TSTR/TRTR" in evaluation.headline()
    assert public_evaluate is evaluate  # the Python API: from sentiforge.evaluation import evaluate


def test_report_files_are_self_contained_and_complete(evaluation: Evaluation, tmp_path: Path) -> None:
    paths = evaluation.write(tmp_path / "report")
    html = paths["html"].read_text(encoding="utf-8")
    assert "<script" not in html and "<link" not in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)  # nothing fetched from elsewhere
    assert html.count("<svg") >= 7
    ratio = evaluation.primary.ratio
    assert f"{ratio * 100:.0f}" in html
    figures = json.loads(paths["figures"].read_text())
    assert set(figures) >= {
        "headline",
        "per_class_f1_tfidf",
        "confusion_tfidf",
        "projection",
        "lengths",
        "labels",
        "attributes",
    }
    assert figures["confusion_tfidf"]["confusion"]["trtr"] == evaluation.primary.settings["trtr"].scores["confusion"]
    numbers = json.loads(paths["json"].read_text())  # strict JSON: no NaN
    assert numbers["tstr"]["tfidf"]["ratio"] == pytest.approx(ratio)
    assert "models" not in numbers["tstr"]["tfidf"]


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium: apt-get install -y chromium")
def test_report_renders_in_headless_chromium(evaluation: Evaluation, tmp_path: Path) -> None:
    from PIL import Image

    paths = evaluation.write(tmp_path / "report")
    shot = tmp_path / "shot.png"
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--screenshot={shot}",
        "--window-size=1280,2000",
        paths["html"].resolve().as_uri(),
    ]
    subprocess.run(cmd, capture_output=True, timeout=180, check=False)
    assert shot.is_file(), "chromium wrote no screenshot"
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert pixels.shape == (2000, 1280)
    assert pixels.std() > 20  # not a blank page
    header, body = pixels[:60].mean(), pixels[300:1200].mean()
    assert header < 100 < body  # the dark header band and the light cards both drew
