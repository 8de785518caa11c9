"""The label judge scores every label from first-token log-probabilities and decides with
per-label offsets calibrated on labelled real text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sentiforge.backends import LLMClient
from sentiforge.backends.base import ChatRequest
from sentiforge.io.datasets import load_vader
from sentiforge.labels import get_scheme
from sentiforge.quality.judge_calibration import calibrate, calibration_texts, fit_offsets
from sentiforge.quality.label_judge import (
    LabelJudge,
    answer_words,
    calibrated_judge,
    label_probabilities,
)
from sentiforge.samples import Sample
from sentiforge.testing.backend import FakeBackend

THREE = get_scheme("three_class")
TWEETS = load_vader("tweets", THREE)
TRUTH = {s.text: str(s.label) for s in TWEETS}


def shy_of_neutral(request: ChatRequest) -> dict[str, float] | str:
    """A judge like the small model: it ranks neutral texts' neutral label second, behind a
    polar label, and almost never answers "neutral" outright."""
    text = request.messages[-1].content.rsplit("Text: ", 1)[-1]
    truth = TRUTH.get(text, "neutral")
    if truth == "neutral":
        return {"negative": -0.6, "neutral": -1.1, "positive": -2.2, "ne": -3.0}
    other = "positive" if truth == "negative" else "negative"
    return {truth: -0.2, "neutral": -3.0, other: -2.4}


def test_label_probabilities_count_each_token_for_the_one_word_it_begins() -> None:
    words = ["negative", "neutral", "positive"]
    probs = label_probabilities({"negative": np.log(0.5), " Neutral": np.log(0.2), "ne": np.log(0.2)}, words)
    assert probs is not None
    assert probs == pytest.approx([0.5 / 0.7, 0.2 / 0.7, 0.0])  # "ne" begins two words: counted for neither
    assert label_probabilities({"The": -0.1, "label": -2.0}, words) is None


def test_labels_sharing_a_first_word_are_answered_by_number() -> None:
    assert answer_words(THREE) == ["negative", "neutral", "positive"]
    seven = get_scheme("seven_level")
    assert seven.labels[0] == "very negative" and seven.labels[-1] == "very positive"
    assert answer_words(seven) == [str(i + 1) for i in range(len(seven.labels))]
    judge = LabelJudge(LLMClient(FakeBackend()), seven)
    prompt = judge.request("x").messages[-1].content
    assert "- 1 = very negative" in prompt and "the label's number only" in prompt


async def test_the_judge_scores_from_logprobs_and_falls_back_to_a_choice() -> None:
    backend = FakeBackend(responder=shy_of_neutral)
    judge = LabelJudge(LLMClient(backend), THREE)
    neutral_text = next(s.text for s in TWEETS if s.label == "neutral")
    probs = await judge.ascore(neutral_text)
    assert probs is not None and probs.sum() == pytest.approx(1.0)
    assert backend.history[-1].top_logprobs == 20 and backend.history[-1].max_tokens == 1
    assert await judge.ajudge(neutral_text) == "negative"  # uncalibrated: its argmax
    plain = LabelJudge(LLMClient(FakeBackend(responder=lambda r: "neutral")), THREE)
    assert await plain.ajudge("whatever") == "neutral"  # no logprobs: the constrained answer


def test_offsets_fitted_on_biased_scores_restore_neutral_recall_on_held_out_texts() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 600)
    logits = np.where(np.eye(3)[y] > 0, 1.0, 0.0) + rng.normal(0, 0.8, (600, 3)) + np.array([0.0, -1.5, 0.3])
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    offsets = fit_offsets(logp[:300], y[:300])
    before = np.argmax(logp[300:], axis=1)
    after = np.argmax(logp[300:] + offsets, axis=1)
    neutral = y[300:] == 1
    assert np.mean(before[neutral] == 1) < 0.35 < 0.6 < np.mean(after[neutral] == 1)
    assert np.mean(after == y[300:]) >= np.mean(before == y[300:]) - 0.02


def test_calibration_reports_cross_validated_reliability_per_label() -> None:
    labels = list(THREE.labels)
    texts = [s for label in labels for s in [t for t in TWEETS if t.label == label][:40]]
    judge = LabelJudge(LLMClient(FakeBackend(responder=shy_of_neutral)), THREE)
    probs = judge.score_many([s.text for s in texts])
    judge.close()
    calibration = calibrate(probs, [str(s.label) for s in texts], labels, source="test")
    assert calibration.per_label_uncalibrated["neutral"].recall == 0.0
    assert calibration.per_label["neutral"].recall == pytest.approx(1.0)
    assert calibration.balanced_accuracy == pytest.approx(1.0)
    assert calibration.decide(np.array([0.5, 0.3, 0.2])) == "neutral"
    assert "neutral P 1.00 R 1.00" in calibration.summary()


async def test_seeds_calibrate_the_judge_and_packaged_text_serves_without_them(tmp_path: Path) -> None:
    seeds = [Sample(text=s.text, label=s.label) for s in TWEETS[:400]]
    source, texts = calibration_texts(THREE, seeds)
    assert source == "seeds" and len(texts) == 120
    backend = FakeBackend(responder=shy_of_neutral)
    judge = await calibrated_judge(LLMClient(backend), THREE, seeds, tmp_path)
    assert judge.calibration is not None and judge.calibration.source == "seeds"
    assert not list(tmp_path.iterdir())  # a job's own seeds make a calibration for that job only
    assert calibration_texts(THREE, seeds[:5])[0] == "packaged:vader-tweets"
    first = await calibrated_judge(LLMClient(backend), THREE, None, tmp_path)
    assert first.calibration is not None and first.calibration.source == "packaged:vader-tweets"
    asked = backend.requests
    again = await calibrated_judge(LLMClient(backend), THREE, None, tmp_path)  # kept: nothing asked again
    assert backend.requests == asked and again.calibration == first.calibration
    assert await again.ajudge(next(s.text for s in TWEETS if s.label == "neutral")) == "neutral"


def test_packaged_calibrations_match_their_model_and_judge() -> None:
    from sentiforge.quality.judge_calibration import PACKAGED_DIR, JudgeCalibration

    shipped = sorted(PACKAGED_DIR.glob("*.json"))
    assert shipped, "the default model's calibration ships with sentiforge (benchmarks/judge/run.py)"
    for path in shipped:
        calibration = JudgeCalibration.load(path)
        assert calibration is not None and calibration.judge_id and calibration.n >= 80
        assert len(calibration.offsets) == len(calibration.labels)
