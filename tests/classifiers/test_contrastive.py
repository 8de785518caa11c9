"""The contrastive (SetFit-style) classifier: pair drawing, and the training mechanics on a tiny
random BERT body (the packaged MiniLM is swapped out at its loading seam); the real MiniLM run
is marked slow."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sentiforge.classifiers import contrastive, load_classifier, train
from sentiforge.classifiers.base import family
from sentiforge.errors import ConfigError
from sentiforge.labels import get_scheme
from sentiforge.samples import Provenance, Sample

WORDS = {"positive": ["great", "lovely"], "neutral": ["plain", "usual"], "negative": ["awful", "broken"]}


def samples(n: int = 30) -> list[Sample]:
    labels = list(WORDS)
    return [Sample(id=i, text=f"the tram {i} was {WORDS[labels[i % 3]][i % 2]}", label=labels[i % 3]) for i in range(n)]


def test_pairs_pull_same_labels_together_push_others_apart_and_prefer_augmented_variants() -> None:
    y = np.array([0, 0, 1, 1, 0, 2])
    groups = ["a", "a", "b", None, None, None]  # 0 and 1: a seed and its augmented variant
    pairs = contrastive.make_pairs(y, groups, per_sample=4, rng=np.random.default_rng(0))
    assert all((y[i] == y[j]) == (t == 1.0) for i, j, t in pairs)
    assert all(i != j for i, j, t in pairs if t == 1.0)
    assert (0, 1, 1.0) in pairs and (1, 0, 1.0) in pairs  # the variant is the first positive
    assert sum(t == 0.0 for *_, t in pairs) == 2 * len(y)


def test_family_is_the_parent_seed_or_the_sample_itself() -> None:
    assert family(Sample(id=7, text="x", label="positive")) == "7"
    assert family(Sample(id=9, text="y", label="positive", provenance=Provenance(parent_id=7))) == "7"
    assert family(Sample(text="z", label="positive")) is None


@pytest.fixture
def tiny_body(tiny_lm: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    transformers = pytest.importorskip("transformers")
    tok = transformers.AutoTokenizer.from_pretrained(tiny_lm)
    config = transformers.BertConfig(
        vocab_size=len(tok), hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64
    )

    def fake_encoder() -> tuple[Any, Any]:
        return transformers.BertModel(config), tok

    monkeypatch.setattr(contrastive, "packaged_encoder", fake_encoder)


def test_contrastive_trains_predicts_and_round_trips(tiny_body: None, tmp_path: Path) -> None:
    scheme = get_scheme("three_class")
    clf = train(samples(), scheme, "contrastive", pairs_per_sample=4, epochs=2, lr=1e-3)
    assert clf.info.metrics["training"]["pairs"] == 30 * 4
    texts = ["the tram 99 was great", "the tram 98 was broken"]
    proba = clf.predict_proba(texts)
    assert proba.shape == (2, 3) and np.allclose(proba.sum(axis=1), 1)
    assert all(label in scheme.labels for label in clf.predict(texts))
    folder = clf.save(tmp_path / "contrastive")
    assert (folder / "encoder.safetensors").is_file() and (folder / "head.npz").is_file()
    again = load_classifier(folder)
    np.testing.assert_allclose(again.predict_proba(texts), proba, atol=1e-5)


def test_contrastive_refuses_unknown_options() -> None:
    with pytest.raises(ConfigError, match="unknown contrastive option"):
        contrastive.ContrastiveClassifier(get_scheme("binary"), num_iterations=3)


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_contrastive_minilm_learns_binary_sentiment(datasets_dir: Path) -> None:
    from sentiforge.io.datasets import load_uci
    from sentiforge.io.splits import split_real

    train_set, holdout = split_real(load_uci("yelp", root=datasets_dir), holdout=0.2, seed=1)
    clf = train(train_set[:64], get_scheme("binary"), "contrastive", pairs_per_sample=4)
    pred = clf.predict([s.text for s in holdout[:80]])
    assert np.mean([p == s.label for p, s in zip(pred, holdout[:80], strict=True)]) > 0.7
