"""Pseudo-labels on real, held-out labelled data: the precision the threshold promised holds."""

import random

import numpy as np
import pytest

from sentiforge.backends import ChatRequest, LLMClient
from sentiforge.io.datasets import load_builtin
from sentiforge.labels import get_scheme
from sentiforge.quality.consistency import LabelJudge
from sentiforge.quality.pseudo_labels import pseudo_label, tune_threshold
from sentiforge.samples import Sample
from sentiforge.testing import FakeBackend

BINARY = get_scheme("binary")


@pytest.fixture(scope="module")
def yelp_split() -> tuple[list[Sample], list[Sample]]:
    data = load_builtin("uci:yelp") + load_builtin("uci:amazon")
    random.Random(5).shuffle(data)
    return data[:400], data[400:1600]


def test_precision_on_held_out_texts_reaches_the_promise(yelp_split) -> None:  # type: ignore[no-untyped-def]
    seeds, held = yelp_split
    hidden = [s.model_copy(update={"label": None}) for s in held]  # labels hidden from the labeller
    result = pseudo_label(hidden, seeds, BINARY, target_precision=0.85)
    truth = {s.text: s.label for s in held}
    kept = result.samples
    precision = np.mean([truth[s.text] == s.label for s in kept])
    assert result.promised_precision >= 0.85 and len(kept) >= 200
    assert precision >= result.promised_precision - 0.02  # measured: see test_the_promise_is_measured...
    assert all(s.provenance.strategy == "pseudo_label" for s in kept)
    assert {"confidence", "threshold", "promised_precision"} <= set(kept[0].provenance.params)


def test_a_judge_that_disagrees_removes_texts(yelp_split) -> None:  # type: ignore[no-untyped-def]
    seeds, held = yelp_split
    truth = {s.text: str(s.label) for s in held[:200]}

    def oracle(request: ChatRequest) -> str:
        return truth[request.messages[-1].content.split("Text: ", 1)[1]]

    judge = LabelJudge(LLMClient(FakeBackend(responder=oracle)), BINARY)
    result = pseudo_label(held[:200], seeds, BINARY, target_precision=0.85, judge=judge)
    judge.close()
    assert all(truth[s.text] == s.label for s in result.samples)  # an oracle judge leaves only right labels
    assert result.disputed_by_judge > 0


def test_threshold_tuning_on_planted_confidences() -> None:
    confidence = np.linspace(1.0, 0.5, 100)
    correct = np.array([True] * 60 + [False, True] * 20)  # perfect above 0.7, then 50%
    t = tune_threshold(confidence, correct, 0.9)
    assert t.precision >= 0.9 and 0.6 <= t.coverage <= 0.75


def test_balanced_labels_keep_the_seeds_proportions_on_real_tweets() -> None:
    """One threshold keeps what the classifier is surest of (nearly no neutral tweets); one
    threshold per label, cut to the seeds' proportions, keeps every label and its promise."""
    from collections import Counter

    scheme = get_scheme("three_class")
    tweets = load_builtin("vader:tweets", scheme)
    random.Random(3).shuffle(tweets)
    seeds, held = tweets[:300], tweets[300:1800]
    hidden = [s.model_copy(update={"label": None}) for s in held]
    truth = {s.text: s.label for s in held}
    shares = Counter(str(s.label) for s in seeds)
    one = pseudo_label(hidden, seeds, scheme, lexicon=True, balance=False, accept_lower=True)
    balanced = pseudo_label(hidden, seeds, scheme, lexicon=True, accept_lower=True)
    kept = Counter(str(s.label) for s in balanced.samples)
    neutral_share = shares["neutral"] / len(seeds)
    assert one.by_label.get("neutral", 0) < 0.5 * neutral_share * len(one.samples)  # the skew this fixes
    assert set(kept) == set(scheme.labels) and len(balanced.samples) >= 100
    for label in scheme.labels:  # the seeds' proportions, within rounding
        assert abs(kept[label] / len(balanced.samples) - shares[label] / len(seeds)) < 0.02
    precision = np.mean([truth[s.text] == s.label for s in balanced.samples])
    assert precision >= balanced.promised_precision - 0.08
    summary = balanced.summary()
    assert summary["balanced"] and set(summary["thresholds"]) == set(scheme.labels)
    assert summary["dropped_to_balance"] > 0


def test_in_proportion_cuts_to_the_scarcest_label() -> None:
    from collections import Counter

    from sentiforge.quality.pseudo_labels import in_proportion

    label_of = {i: "a" for i in range(100)} | {i: "b" for i in range(100, 110)}
    confidence = np.linspace(1.0, 0.0, 110)
    kept = in_proportion(list(label_of), label_of, confidence, Counter(a=50, b=50, c=10))
    assert Counter(label_of[i] for i in kept) == Counter(a=10, b=10)  # c had nothing to keep
    assert [i for i in kept if label_of[i] == "a"] == list(range(10))  # the most confident
    assert in_proportion([], {}, confidence, Counter(a=1)) == []


def test_the_promise_is_measured_on_unseen_seeds_and_a_short_one_keeps_nothing() -> None:
    """Tuned and counted on the same seeds, the threshold promised more than it kept (issue 22:
    0.90 promised, 0.84 on hidden labels). Counted on folds it did not see, the promise holds
    on held-out tweets; when it falls short of the precision asked, nothing is kept and the
    message says what the seeds allow and how to accept it."""
    scheme = get_scheme("three_class")
    tweets = load_builtin("vader:tweets", scheme)
    random.Random(4).shuffle(tweets)
    seeds, held = tweets[:200], tweets[200:1700]
    hidden = [s.model_copy(update={"label": None}) for s in held]
    truth = {s.text: s.label for s in held}
    refused = pseudo_label(hidden, seeds, scheme, lexicon=True, target_precision=0.95)
    assert refused.samples == [] and refused.measured is not None and refused.measured.overall < 0.95
    assert f"{refused.measured.overall:.2f}" in str(refused.refused) and "--accept-lower" in str(refused.refused)
    accepted = pseudo_label(hidden, seeds, scheme, lexicon=True, target_precision=0.95, accept_lower=True)
    precision = float(np.mean([truth[s.text] == s.label for s in accepted.samples]))
    assert len(accepted.samples) >= 50
    assert precision >= accepted.promised_precision - 0.03, (precision, accepted.summary())
