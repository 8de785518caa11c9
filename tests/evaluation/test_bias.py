"""Bias audit: planted imbalances are flagged, with a generation step that would fix them."""

from __future__ import annotations

from sentiforge.evaluation.bias import Thresholds, attribute_values, audit
from sentiforge.labels import Aspect
from sentiforge.recipe import StepSpec
from sentiforge.samples import Sample
from sentiforge.strategies.base import build_strategy


def _planted() -> list[Sample]:
    out = []
    for i in range(300):  # banks: balanced labels; telecom: mostly negative; travel: rare
        domain = "bank" if i < 150 else "telecom" if i < 280 else "travel"
        label = "negative" if domain == "telecom" and i % 10 else ("positive", "negative", "neutral")[i % 3]
        out.append(Sample(text=f"text {i}", label=label, attributes={"domain": domain, "length": "short", "id": i}))
    return out


def test_count_and_label_imbalances_are_flagged_with_working_suggestions() -> None:
    report = audit(_planted())
    kinds = {(f.kind, f.attribute, f.value) for f in report.flags}
    assert ("count", "domain", "travel") in kinds
    assert ("labels", "domain", "telecom") in kinds
    assert not any(f.attribute in {"id", "length"} for f in report.flags)  # ids skipped; one-valued attrs too
    telecom = next(f for f in report.flags if f.kind == "labels" and f.value == "telecom")
    step = telecom.suggestion["step"]  # type: ignore[index]
    assert step["params"]["attributes"] == {"domain": ["telecom"]}
    assert step["params"]["labels"] in (["positive"], ["neutral"])
    assert 20 < step["params"]["count"] < 40  # (0.2 * 130 - 4) / 0.8: brings the short label to its overall share
    assert "telecom" in telecom.suggestion["prompt"]  # type: ignore[index]
    for flag in report.flags:  # every suggestion is a valid recipe step for the generate strategy
        spec = StepSpec.model_validate(flag.suggestion["step"])  # type: ignore[index]
        build_strategy(spec.strategy, spec.params)


def test_error_rates_per_value_flag_groups_the_model_gets_wrong() -> None:
    samples = _planted()
    preds = [("positive" if s.attributes["domain"] == "bank" else s.target()) for s in samples]
    report = audit(samples, predictions=preds, name="holdout")
    domain = next(a for a in report.attributes if a.attribute == "domain")
    assert domain.error_rates["telecom"] == 0.0 and domain.error_rates["bank"] > 0.6
    assert any(f.kind == "errors" and f.value == "bank" for f in report.flags)


def test_thresholds_control_flagging_and_small_groups_are_not_flagged_for_errors() -> None:
    loose = audit(_planted(), thresholds=Thresholds(count_ratio=100, label_tv=0.99))
    assert not loose.flags
    samples = _planted()[:290]  # travel keeps 10 samples, under min_support (20)
    preds = ["wrong" if s.attributes["domain"] == "travel" else s.target() for s in samples]
    report = audit(samples, predictions=preds)
    travel = next(a for a in report.attributes if a.attribute == "domain").error_rates["travel"]
    assert travel == 1.0
    assert not any(f.kind == "errors" for f in report.flags)


def test_small_samples_are_not_flagged_for_count_noise() -> None:
    few = [Sample(text=f"t {i}", label="positive", attributes={"domain": "a" if i < 9 else "b"}) for i in range(12)]
    assert not audit(few).flags  # 9 vs 3 is noise at this size


def test_language_and_aspect_categories_are_attributes() -> None:
    s = Sample(
        text="the screen is dim",
        aspects=[Aspect(term="screen", polarity="negative", category="display")],
        language="fr",
    )
    assert attribute_values(s) == {"language": "fr", "aspect_category": "display"}
