"""The fine-tuned MiniLM classifier: tiny runs (a few hundred samples, one epoch, max_len 64)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from sentiforge.classifiers import load_classifier, train
from sentiforge.io.datasets import load_uci
from sentiforge.io.splits import split_real
from sentiforge.labels import get_scheme
from sentiforge.samples import Sample

# The machine running these may be shared: allow far more than the ~1 minute they take alone.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]
TINY = {"epochs": 1, "max_len": 64, "batch_size": 16}


def test_fine_tuned_minilm_learns_binary_sentiment_and_round_trips(tmp_path: Path, datasets_dir: Path) -> None:
    scheme = get_scheme("binary")
    train_set, holdout = split_real(load_uci("yelp", root=datasets_dir), holdout=0.2, seed=1)
    clf = train(train_set[:160], scheme, "transformer", **TINY)
    texts = [s.text for s in holdout[:80]]
    pred = clf.predict(texts)
    accuracy = np.mean([p == s.label for p, s in zip(pred, holdout[:80], strict=True)])
    assert accuracy > 0.72  # chance is 0.5; 0.81 measured (a random-init head reached 0.56)
    folder = clf.save(tmp_path / "minilm")
    assert (folder / "model.safetensors").is_file() and (folder / "tokenizer").is_dir()
    assert not list(folder.rglob("*.bin")) and not list(folder.rglob("*.pkl"))
    again = load_classifier(folder)
    np.testing.assert_allclose(again.predict_proba(texts), clf.predict_proba(texts), atol=1e-5)
    assert again.info.versions["torch"]


def test_fine_tuned_minilm_multi_label_tunes_thresholds(emotion_samples: Callable[..., list[Sample]]) -> None:
    scheme = get_scheme("emotions")
    data = emotion_samples(200, seed=3)
    clf = train(data[:160], scheme, "transformer", **{**TINY, "epochs": 2})
    assert clf.info.thresholds is not None and len(clf.info.thresholds) == len(scheme.labels)
    pred = clf.predict([s.text for s in data[160:]])
    hits = np.mean([set(p) & set(s.labels or []) != set() for p, s in zip(pred, data[160:], strict=True)])
    assert hits > 0.7


def test_seven_level_scheme_trains_single_label() -> None:
    scheme = get_scheme("seven_level")
    words = ["dreadful", "bad", "meh-ish poor", "plain", "decent okay", "good", "superb"]
    data = [
        Sample(text=f"the {w} film, take {i}", label=label)
        for i in range(12)
        for w, label in zip(words, scheme.labels, strict=True)
    ]
    clf = train(data, scheme, "transformer", **{**TINY, "epochs": 2})
    proba = clf.predict_proba(["the superb film, take 99"])
    assert proba.shape == (1, 7) and abs(proba.sum() - 1) < 1e-5
    assert clf.predict(["the superb film, take 99"])[0] in scheme.labels


def test_cpu_preset_caps_the_training_texts_and_freezes_the_lower_layers(datasets_dir: Path) -> None:
    scheme = get_scheme("binary")
    train_set, holdout = split_real(load_uci("yelp", root=datasets_dir), holdout=0.2, seed=1)
    clf = train(train_set[:300], scheme, "transformer", preset="cpu", max_train=120)
    p, trained = clf.info.params, clf.info.metrics["training"]
    assert (p["preset"], p["epochs"], p["max_len"], p["batch_size"], p["freeze_layers"]) == ("cpu", 1, 64, 32, 4)
    assert (trained["texts"], trained["of"]) == (120, 300) and trained["frozen_parameters"] > 10_000_000
    pred = clf.predict([s.text for s in holdout[:80]])
    assert np.mean([a == s.label for a, s in zip(pred, holdout[:80], strict=True)]) > 0.7  # chance 0.5
