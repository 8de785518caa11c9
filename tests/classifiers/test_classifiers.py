"""The classifier seam: every kind learns, predicts labels of its scheme, and survives save/load."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from sentiforge.classifiers import build_classifier, load_classifier, targets_of, train
from sentiforge.classifiers.base import decode, tune_thresholds
from sentiforge.classifiers.linear import LinearHead
from sentiforge.errors import ConfigError, DataError, LabelError
from sentiforge.evaluation import metrics
from sentiforge.io.datasets import load_uci, load_vader
from sentiforge.io.splits import split_real
from sentiforge.labels import get_scheme
from sentiforge.samples import Sample
from sentiforge.testing.classifier import FakeClassifier

BINARY = get_scheme("binary")
THREE = get_scheme("three_class")
EMOTIONS = get_scheme("emotions")


@pytest.fixture(scope="module")
def yelp() -> tuple[list[Sample], list[Sample]]:
    return split_real(load_uci("yelp"), holdout=0.3, seed=0)


def _macro_f1(clf: object, holdout: list[Sample], scheme: object) -> float:
    y = np.array([scheme.labels.index(s.label) for s in holdout])  # type: ignore[attr-defined]
    pred = np.array([scheme.labels.index(p) for p in clf.predict([s.text for s in holdout])])  # type: ignore[attr-defined]
    return metrics.macro_f1(metrics.confusion(y, pred, len(scheme.labels)))  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", ["tfidf", "fake"])
def test_classifier_beats_chance_by_a_wide_margin_on_real_holdout(
    kind: str, yelp: tuple[list[Sample], list[Sample]]
) -> None:
    train_set, holdout = yelp
    clf = train(train_set, BINARY, kind, dataset={"name": "uci:yelp"})
    assert _macro_f1(clf, holdout, BINARY) > 0.72  # chance is 0.5
    assert clf.info.training_data["size"] == len(train_set)
    assert set(clf.info.training_data["labels"]) == {"positive", "negative"}


def test_tfidf_three_class_beats_chance_on_tweets(datasets_dir: Path) -> None:
    train_set, holdout = split_real(load_vader("tweets", THREE, root=datasets_dir), seed=0)
    clf = train(train_set, THREE, "tfidf", class_weight="balanced")
    assert _macro_f1(clf, holdout, THREE) > 0.5  # chance is ~0.33


@pytest.mark.parametrize("kind", ["tfidf", "fake"])
def test_save_load_round_trip_is_exact_and_pickle_free(
    kind: str, tmp_path: Path, yelp: tuple[list[Sample], list[Sample]]
) -> None:
    train_set, holdout = yelp
    clf = train(train_set, BINARY, kind)
    folder = clf.save(tmp_path / "model")
    texts = [s.text for s in holdout]
    again = load_classifier(folder)
    np.testing.assert_allclose(again.predict_proba(texts), clf.predict_proba(texts), atol=1e-9)
    assert again.predict(texts) == clf.predict(texts)
    meta = json.loads((folder / "model.json").read_text())
    assert meta["kind"] == kind and meta["scheme"]["name"] == "binary"
    assert meta["versions"]["numpy"] and meta["training_data"]["size"] == len(train_set)
    assert {p.suffix for p in folder.iterdir()} <= {".json", ".npz"}
    with np.load(folder / "weights.npz", allow_pickle=False) as arrays:
        assert all(arrays[k].dtype != object for k in arrays.files)


def test_tfidf_with_character_ngrams_and_lexicon_round_trips(
    tmp_path: Path, yelp: tuple[list[Sample], list[Sample]]
) -> None:
    train_set, holdout = yelp
    clf = train(train_set, BINARY, "tfidf", char_ngrams=True, lexicon=True, class_weight="balanced")
    texts = [s.text for s in holdout]
    plain = train(train_set, BINARY, "tfidf", class_weight="balanced")
    assert clf.features(texts[:3]).shape[1] > plain.features(texts[:3]).shape[1] + 4  # chars + 4 lexicon scores
    assert _macro_f1(clf, holdout, BINARY) > 0.72
    folder = clf.save(tmp_path / "model")
    assert (folder / "char_vocabulary.json").is_file()
    again = load_classifier(folder)
    np.testing.assert_allclose(again.predict_proba(texts), clf.predict_proba(texts), atol=1e-9)
    assert json.loads((folder / "model.json").read_text())["params"]["lexicon"] is True


def test_linear_head_matches_sklearn_probabilities(yelp: tuple[list[Sample], list[Sample]]) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    train_set, holdout = yelp
    vec = TfidfVectorizer().fit([s.text for s in train_set])
    x, xt = vec.transform([s.text for s in train_set]), vec.transform([s.text for s in holdout])
    for scheme, labels in ((BINARY, [s.label for s in train_set]), (THREE, [s.label for s in train_set])):
        y = np.array([scheme.labels.index(v) for v in labels])
        head = LinearHead(len(scheme.labels)).fit(x, y)
        ref = LogisticRegression(C=1.0, max_iter=3000, solver="saga", random_state=0).fit(x, y).predict_proba(xt)
        proba = head.proba(xt)
        present = sorted(set(y.tolist()))
        np.testing.assert_allclose(proba[:, present], ref, atol=1e-6)
        if scheme is THREE:  # 'neutral' never seen: it can never win
            assert proba[:, 1].max() < 1e-10


def test_three_class_model_with_a_missing_label_still_answers_in_the_scheme() -> None:
    data = [
        Sample(text=f"{w} thing number {i}", label=lab)
        for i in range(20)
        for w, lab in (("great", "positive"), ("awful", "negative"))
    ]
    clf = train(data, THREE, "tfidf")
    assert clf.predict_proba(["great"]).shape == (1, 3)
    assert clf.predict(["great stuff", "awful stuff"]) == ["positive", "negative"]


@pytest.mark.parametrize("kind", ["tfidf", "fake", "embedding"])
def test_multi_label_learns_label_sets_and_keeps_thresholds(
    kind: str, tmp_path: Path, emotion_samples: Callable[..., list[Sample]]
) -> None:
    data = emotion_samples()
    params = {"embedder": "fake"} if kind == "embedding" else {}
    clf = train(data[:180], EMOTIONS, kind, **params)
    test = data[180:]
    pred = clf.predict([s.text for s in test])
    assert all(isinstance(p, list) and p for p in pred)
    exact = np.mean([p == s.labels for p, s in zip(pred, test, strict=True)])
    assert exact > 0.6
    if kind != "fake":
        assert clf.info.thresholds is not None and len(clf.info.thresholds) == len(EMOTIONS.labels)
    again = load_classifier(clf.save(tmp_path / kind))
    assert again.predict([s.text for s in test]) == pred


def test_embedding_classifier_with_fake_embedder_round_trips(
    tmp_path: Path, yelp: tuple[list[Sample], list[Sample]]
) -> None:
    train_set, holdout = yelp
    clf = train(train_set, BINARY, "embedding", embedder="fake")
    assert _macro_f1(clf, holdout, BINARY) > 0.6
    again = load_classifier(clf.save(tmp_path / "emb"))
    texts = [s.text for s in holdout[:50]]
    np.testing.assert_allclose(again.predict_proba(texts), clf.predict_proba(texts), atol=1e-6)
    assert again.info.params["embedder"] == "fake"


def test_embedding_kind_picks_the_multilingual_model_for_other_languages() -> None:
    assert build_classifier("embedding", BINARY, language="fr").info.params["embedder"] == "multilingual"
    assert build_classifier("embedding", BINARY, language="en").info.params["embedder"] == "minilm"


def test_bad_input_gives_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown classifier"):
        build_classifier("svm", BINARY)
    with pytest.raises(ConfigError, match="unknown TF-IDF option"):
        build_classifier("tfidf", BINARY, vectorizer={"ngrams": 3})
    with pytest.raises(DataError, match="empty"):
        FakeClassifier(BINARY).fit([], [])
    with pytest.raises(DataError, match="only 1 distinct label"):
        build_classifier("tfidf", BINARY).fit(["good", "fine"], ["positive", "positive"])
    with pytest.raises(LabelError, match="unknown label"):
        build_classifier("tfidf", BINARY).fit(["good", "bad"], ["positive", "meh"])
    with pytest.raises(ConfigError, match="not trained"):
        build_classifier("tfidf", BINARY).predict(["x"])
    with pytest.raises(DataError, match="not a saved sentiforge model"):
        load_classifier(tmp_path)
    (tmp_path / "model.json").write_text(json.dumps({"kind": "svm", "scheme": BINARY.model_dump()}))
    with pytest.raises(DataError, match="unknown kind"):
        load_classifier(tmp_path)


def test_decode_and_thresholds() -> None:
    proba = np.array([[0.9, 0.6, 0.1], [0.2, 0.3, 0.1]])
    scheme = get_scheme("emotions").model_copy(update={"labels": ("joy", "anger", "fear")})
    assert decode(proba, scheme, [0.5, 0.5, 0.5]) == [["joy", "anger"], ["anger"]]  # never empty: top label
    assert decode(proba, scheme, [0.5, 0.7, 0.5]) == [["joy"], ["anger"]]
    y = np.array([[1, 0], [1, 0], [0, 1], [0, 0]])
    p = np.array([[0.4, 0.1], [0.35, 0.2], [0.1, 0.3], [0.2, 0.25]])
    assert tune_thresholds(p, y) == [0.25, 0.3]


def test_targets_of_multi_and_aspect_samples() -> None:
    from sentiforge.labels import Aspect

    s = Sample(text="x y z", aspects=[Aspect(term="x", polarity="negative")])
    assert targets_of([s], get_scheme("aspect")) == ["negative"]
    assert targets_of([Sample(text="a b c", labels=["joy", "fear"])], EMOTIONS) == [["joy", "fear"]]
