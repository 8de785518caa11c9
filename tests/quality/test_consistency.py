"""Label consistency by a second opinion, on real data with 10% of labels flipped."""

from __future__ import annotations

import random

import numpy as np
import pytest

from sentiforge.backends import ChatRequest, LLMClient
from sentiforge.errors import QualityError
from sentiforge.labels import get_scheme
from sentiforge.quality.config import ConsistencyConfig
from sentiforge.quality.consistency import ConsistencyCheck, LabelJudge, SeedClassifier, decide
from sentiforge.samples import Sample
from sentiforge.testing import FakeBackend

BINARY = get_scheme("binary")
THREE = get_scheme("three_class")


def flip(samples: list[Sample], share: float, seed: int) -> tuple[list[Sample], set[int]]:
    rng = random.Random(seed)
    chosen = set(rng.sample(range(len(samples)), int(len(samples) * share)))
    out = [
        s.model_copy(update={"label": "negative" if s.label == "positive" else "positive"}) if i in chosen else s
        for i, s in enumerate(samples)
    ]
    return out, chosen


def oracle_judge(truth: dict[str, str]) -> FakeBackend:
    """A judge that knows the real label: isolates the combination logic from judge quality."""

    def respond(request: ChatRequest) -> dict[str, float]:
        # one answer token and its alternatives: the judge scores labels, it writes no free text
        assert request.top_logprobs and request.max_tokens == 1
        text = request.messages[-1].content.split("Text: ", 1)[1]
        return {label: -0.05 if label == truth[text] else -3.0 for label in BINARY.labels}

    return FakeBackend(responder=respond)


def test_flipped_labels_are_caught_by_judge_and_seed_classifier(yelp: list[Sample]) -> None:
    rng = random.Random(1)
    data = list(yelp)
    rng.shuffle(data)
    seeds, evaluated = data[:600], data[600:900]
    noisy, flipped = flip(evaluated, 0.10, seed=2)
    truth = {s.text: str(s.label) for s in evaluated}
    judge = LabelJudge(LLMClient(oracle_judge(truth)), BINARY)
    check = ConsistencyCheck(
        BINARY,
        # The defaults are tuned for a 1.5B judge that is often wrong; this judge is an oracle,
        # so a disagreement of both opinions may reject at a higher consistency score.
        ConsistencyConfig(reject_below=0.3),
        judge=judge,
        classifier=SeedClassifier(BINARY, lexicon=True).fit(seeds),
    )
    results = check.run(noisy)
    judge.close()
    caught = {i for i, r in enumerate(results) if r.verdict == "reject"}
    assert len(caught & flipped) / len(flipped) >= 0.6  # recall: the classifier must agree with the judge
    assert len(caught & flipped) / max(1, len(caught)) >= 0.9  # precision
    # Clean labels are rejected only where the seed classifier is all but sure (p < 0.02) and wrong.
    wrongly = [results[i] for i in caught - flipped]
    assert len(wrongly) <= 3 and all("the seed classifier gives it p=" in (r.reason or "") for r in wrongly)
    example = results[min(caught & flipped)]
    assert "disputed by judge and seed classifier" in (example.reason or "")


def test_a_judge_without_a_usable_answer_abstains(yelp: list[Sample]) -> None:
    backend = FakeBackend(responder=lambda request: "maybe")
    judge = LabelJudge(LLMClient(backend), BINARY)
    assert judge.judge_many(["great food", "awful service"]) == [None, None]
    check = ConsistencyCheck(BINARY, ConsistencyConfig(), judge=judge)
    results = check.run([Sample(text="great food", label="positive")])
    judge.close()
    assert results[0].verdict == "flag" and "no second opinion" in (results[0].reason or "")


def test_policy_flag_never_rejects_and_ordinal_distance_counts() -> None:
    probs = np.array([0.8, 0.15, 0.05])  # negative, neutral, positive
    hard = decide(THREE, "positive", "negative", probs, ConsistencyConfig(policy="reject"))
    assert hard.verdict == "reject" and hard.score < 0.1
    assert decide(THREE, "positive", "negative", probs, ConsistencyConfig(policy="flag")).verdict == "flag"
    near = decide(THREE, "neutral", "negative", probs, ConsistencyConfig())
    assert near.score > hard.score  # one step away on the scale is a milder disagreement
    assert decide(THREE, "negative", "negative", probs, ConsistencyConfig()).verdict == "pass"
    sure = np.array([0.99, 0.005, 0.005])  # the judge agrees with the label, the classifier is all but sure
    vetoed = decide(THREE, "positive", "positive", sure, ConsistencyConfig())
    assert vetoed.verdict == "reject" and "the seed classifier gives it p=0.005" in (vetoed.reason or "")
    assert decide(THREE, "positive", "positive", sure, ConsistencyConfig(classifier_reject_below=0)).verdict == "flag"


def test_seed_classifier_needs_enough_real_seeds_per_label() -> None:
    seeds = [Sample(text=f"lovely day number {i}", label="positive") for i in range(20)]
    with pytest.raises(QualityError, match="at least 5 real seeds per label"):
        SeedClassifier(BINARY).fit(seeds)


@pytest.mark.slow
def test_real_small_judge_on_a_few_tweets() -> None:
    """The embedded 0.5B model's label scores give a label for every text (calibrated offsets)."""
    from sentiforge.backends import from_spec
    from sentiforge.recipe import BackendSpec

    backend = from_spec(BackendSpec(kind="embedded", model="qwen2.5-0.5b", n_ctx=1024))
    judge = LabelJudge(LLMClient(backend), THREE)
    texts = [
        "I absolutely love this, best day ever!",
        "This is the worst service I have ever had, never again.",
        "The meeting is at 3pm in room 4.",
        "So happy with my new phone :)",
    ]
    answers = judge.judge_many(texts)
    judge.close()
    assert all(a in THREE.labels for a in answers)
    assert answers[0] == "positive" and answers[1] == "negative"


def test_one_step_flips_get_their_own_check(tweets: list[Sample]) -> None:
    """Neutral tweets called polar and polar ones called neutral, judged by an oracle: the
    neutral-or-polar classifier rejects flips the dual check only flags."""
    from sentiforge.quality.consistency import OneStepClassifier, build_consistency

    seeds, held = tweets[:1500], tweets[1500:1900]
    rng = random.Random(3)
    chosen = set(rng.sample(range(len(held)), 40))
    planted = [
        s.model_copy(update={"label": ("positive" if s.label == "neutral" else "neutral") if i in chosen else s.label})
        for i, s in enumerate(held)
    ]
    truth = {s.text[:2000]: str(s.label) for s in [*seeds, *held]}  # the judge is calibrated on the seeds

    def respond(request: ChatRequest) -> str:
        return truth[request.messages[-1].content.split("Text: ", 1)[1]]

    def caught(config: ConsistencyConfig) -> set[int]:
        check = build_consistency(
            THREE, config, language="en", judge_client=LLMClient(FakeBackend(responder=respond)), seeds=seeds
        )
        assert check is not None and isinstance(check.sides, OneStepClassifier) == (config.one_step != "off")
        results = check.run(planted)
        check.judge.close()  # type: ignore[union-attr]
        return {i for i, r in enumerate(results) if r.verdict == "reject"}

    with_check, without = caught(ConsistencyConfig()), caught(ConsistencyConfig(one_step="off"))
    # measured: 15 of the 40 flips caught with the check, 5 without; 2 false alarms either way
    assert without <= with_check and len(with_check & chosen) >= 2 * len(without & chosen) >= 6
    assert len(with_check - chosen) <= len(without - chosen) + 3  # few new false alarms
    assert not OneStepClassifier.applies(BINARY)
