"""The embedding classifier on the packaged models (slow: real MiniLM and multilingual E5)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sentiforge.classifiers import load_classifier, train
from sentiforge.io.datasets import load_uci
from sentiforge.io.splits import split_real
from sentiforge.labels import get_scheme

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]
BINARY = get_scheme("binary")


def _accuracy(clf: object, holdout: list) -> float:
    pred = clf.predict([s.text for s in holdout])  # type: ignore[attr-defined]
    return float(np.mean([p == s.label for p, s in zip(pred, holdout, strict=True)]))


def test_minilm_embedding_classifier_beats_chance_widely_and_round_trips(tmp_path: Path, datasets_dir: Path) -> None:
    train_set, holdout = split_real(load_uci("yelp", root=datasets_dir), holdout=0.3, seed=0)
    clf = train(train_set, BINARY, "embedding")
    assert clf.info.params["embedder"] == "minilm"
    assert _accuracy(clf, holdout) > 0.8  # chance is 0.5
    again = load_classifier(clf.save(tmp_path / "emb"))
    texts = [s.text for s in holdout[:40]]
    np.testing.assert_allclose(again.predict_proba(texts), clf.predict_proba(texts), atol=1e-9)


def test_multilingual_embedding_classifier_is_picked_for_french(datasets_dir: Path) -> None:
    train_set, holdout = split_real(load_uci("amazon", root=datasets_dir), holdout=0.3, seed=0)
    french = [s.model_copy(update={"language": "fr"}) for s in train_set[:150]]
    clf = train(french, BINARY, "embedding")
    assert clf.info.params["embedder"] == "multilingual"
    assert _accuracy(clf, holdout[:60]) > 0.7
