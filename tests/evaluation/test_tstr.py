"""TSTR: three training sets, one real holdout, leakage checked first."""

from __future__ import annotations

import random

import numpy as np
import pytest

from sentiforge.classifiers import factory
from sentiforge.errors import ConfigError, DataError
from sentiforge.evaluation.tstr import TSTRConfig, cap_synthetic, cross_validate, run_tstr
from sentiforge.labels import get_scheme
from sentiforge.quality.leakage import check_leakage
from sentiforge.samples import Sample

BINARY = get_scheme("binary")
FAST = TSTRConfig(classifier="fake", bootstrap=200, cv_folds=0)


def test_synthetic_identical_to_real_gives_ratio_one(yelp_split: tuple[list[Sample], list[Sample]]) -> None:
    train, hold = yelp_split
    r = run_tstr(train, hold, list(train), BINARY, factory("fake", BINARY), FAST)
    assert r.ratio == pytest.approx(1.0)
    assert r.ratio_ci == pytest.approx((1.0, 1.0))
    assert r.settings["tstr"].scores == r.settings["trtr"].scores
    assert r.settings["trtr"].scores["macro_f1"] > 0.72  # far above chance (0.5)


def test_label_noise_in_synthetic_data_shows_in_the_ratio(
    yelp_split: tuple[list[Sample], list[Sample]], amazon: list[Sample]
) -> None:
    train, hold = yelp_split
    rng = random.Random(0)
    noise = [s.model_copy(update={"label": rng.choice(["positive", "negative"])}) for s in amazon]
    clean = run_tstr(train, hold, amazon, BINARY, factory("tfidf", BINARY), FAST)
    noisy = run_tstr(train, hold, noise, BINARY, factory("tfidf", BINARY), FAST)
    assert 0.7 < clean.ratio < 1.05  # another real domain: transfers well
    assert noisy.ratio < 0.75  # random labels: near chance
    lo, hi = clean.ratio_ci
    assert lo <= clean.ratio <= hi
    assert noisy.settings["tstr"].ci["macro_f1"][1] < clean.settings["tstr"].ci["macro_f1"][0]


def test_mixed_training_set_respects_the_synthetic_cap(
    yelp_split: tuple[list[Sample], list[Sample]], amazon: list[Sample]
) -> None:
    train, hold = yelp_split
    r = run_tstr(train[:200], hold, amazon, BINARY, factory("fake", BINARY), FAST)
    real_kept = r.settings["trtr"].train_size  # after dropping near copies of the holdout
    mix = r.settings["mix"]
    assert 0.59 < mix.synthetic_share <= 0.6
    assert mix.train_size == real_kept + int(1.5 * real_kept)
    assert len(cap_synthetic(train[:10], amazon[:3], 0.6, 0)) == 13  # under the cap: all kept
    assert len(cap_synthetic(train[:10], amazon, 0.0, 0)) == 10
    with pytest.raises(ConfigError):
        TSTRConfig(synthetic_cap=1.0)


def test_leaked_holdout_texts_are_dropped_or_refused(yelp_split: tuple[list[Sample], list[Sample]]) -> None:
    train, hold = yelp_split
    copies = [hold[0], hold[1].model_copy(update={"text": hold[1].text.upper() + "!!"})]  # exact after normalising
    near = hold[2].model_copy(update={"text": hold[2].text + " Really."})
    synthetic = [*train[:100], *copies, near]
    report = check_leakage(hold, synthetic=synthetic)
    assert report.method == "exact+minhash"
    assert report.positions["synthetic"] == [100, 101, 102]
    with pytest.raises(DataError, match="copy a holdout text"):
        run_tstr(train, hold, synthetic, BINARY, factory("fake", BINARY), TSTRConfig(on_leak="error", cv_folds=0))
    r = run_tstr(train, hold, synthetic, BINARY, factory("fake", BINARY), FAST)
    assert r.leakage["leaked"]["synthetic"] == 3
    assert r.settings["tstr"].train_size == 100


def test_cross_validation_reports_mean_and_spread(yelp_split: tuple[list[Sample], list[Sample]]) -> None:
    train, _ = yelp_split
    cv = cross_validate(factory("fake", BINARY), train, BINARY, k=4, seed=0)
    assert cv["k"] == 4 and cv["stratified"] and len(cv["folds"]["macro_f1"]) == 4
    assert cv["macro_f1"]["mean"] == pytest.approx(np.mean(cv["folds"]["macro_f1"]))
    assert 0 < cv["macro_f1"]["std"] < 0.1
    assert "skipped" in cross_validate(factory("fake", BINARY), train[:5], BINARY, k=4)


def test_multi_label_tstr_runs_end_to_end() -> None:
    scheme = get_scheme("emotions")
    cues = {"joy": "delighted", "anger": "furious", "fear": "terrified", "sadness": "tearful"}
    rng = random.Random(1)

    def make(n: int, tag: str) -> list[Sample]:
        out = []
        for i in range(n):
            labels = sorted(rng.sample(list(cues), 1 + (i % 3 == 0)), key=scheme.labels.index)
            out.append(Sample(text=f"{tag} {i}: I was " + " and ".join(cues[x] for x in labels), labels=labels))
        return out

    r = run_tstr(make(200, "real"), make(80, "held"), make(200, "synth"), scheme, factory("tfidf", scheme), FAST)
    assert r.settings["trtr"].scores["micro_f1"] > 0.8
    assert r.ratio == pytest.approx(r.settings["tstr"].scores["macro_f1"] / r.settings["trtr"].scores["macro_f1"])
    assert "+" in "".join(r.settings["tstr"].predictions) or all(r.settings["tstr"].predictions)


def test_tstr_refuses_empty_inputs(yelp_split: tuple[list[Sample], list[Sample]]) -> None:
    train, hold = yelp_split
    with pytest.raises(DataError, match="needs real train, holdout and synthetic"):
        run_tstr(train, hold, [], BINARY, factory("fake", BINARY), FAST)
