"""Pseudo-labels on real, held-out labelled data: the precision the threshold promised holds."""

import random

import numpy as np
import pytest

from sentiforge.backends import ChatRequest, FakeBackend, LLMClient
from sentiforge.io.datasets import load_builtin
from sentiforge.labels import get_scheme
from sentiforge.quality.consistency import LabelJudge
from sentiforge.quality.pseudo_labels import pseudo_label, tune_threshold
from sentiforge.samples import Sample

BINARY = get_scheme("binary")


@pytest.fixture(scope="module")
def yelp_split() -> tuple[list[Sample], list[Sample]]:
    data = load_builtin("uci:yelp") + load_builtin("uci:amazon")
    random.Random(5).shuffle(data)
    return data[:400], data[400:1600]


def test_precision_on_held_out_texts_reaches_the_promise(yelp_split) -> None:  # type: ignore[no-untyped-def]
    seeds, held = yelp_split
    hidden = [s.model_copy(update={"label": None}) for s in held]  # labels hidden from the labeller
    result = pseudo_label(hidden, seeds, BINARY, target_precision=0.9)
    truth = {s.text: s.label for s in held}
    kept = result.samples
    precision = np.mean([truth[s.text] == s.label for s in kept])
    assert result.threshold.precision >= 0.9 and len(kept) >= 200
    assert precision >= result.threshold.precision - 0.05  # measured: 0.955 on 358 kept of 1,200 (promised 0.90)
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
