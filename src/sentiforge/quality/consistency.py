"""Label consistency by a second opinion (dual-model evaluation).

Two independent opinions on each sample's label:

- an LLM judge whose answer is constrained to the scheme's labels (``grammar_choices``:
  a GBNF grammar on the embedded backend), so it can only name a label;
- a classifier trained on the *real* seed data (TF-IDF + logistic regression: cheap, and
  trained on people's labels rather than the generator's; for English, VADER's lexicon
  scores join its features).

Each opinion gives the sample's label a support in [0, 1]: the judge 1 when it agrees,
less the further its label is on an ordinal scale; the classifier its probability for the
label relative to its top probability. The consistency score is their mean. Disagreement
lowers the score, and by policy rejects when both opinions disagree and the score is low, or
when the seed classifier alone is all but sure the label is wrong (its probability for it is
below ``classifier_reject_below``): the 1.5B judge agrees with a wrong label often enough
that requiring both would miss a fifth of flipped labels (benchmarks/quality/README.md).

The seed classifier is ``sentiforge.classifiers``' TF-IDF model with character n-grams and
(English) the lexicon features on, which the flipped-label benchmark chose; any object with
``proba(texts)`` in scheme order can replace it (``ConsistencyCheck(classifier=...)``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Protocol

import numpy as np

from sentiforge.classifiers.tfidf import TfidfClassifier
from sentiforge.errors import QualityError
from sentiforge.labels import LabelScheme
from sentiforge.quality.base import PASS, CheckResult, flag, reject
from sentiforge.quality.config import ConsistencyConfig
from sentiforge.quality.label_judge import LabelJudge
from sentiforge.samples import Sample

NEUTRAL = "neutral"


class SeedClassifier:
    """The TF-IDF classifier (words and character n-grams, logistic regression) trained on real
    seeds; with ``lexicon=True`` (English) VADER's lexicon scores are added as four features."""

    def __init__(self, scheme: LabelScheme, *, min_per_label: int = 5, lexicon: bool = False) -> None:
        self.scheme = scheme
        self.min_per_label = min_per_label
        self.lexicon = lexicon
        self.model: TfidfClassifier | None = None

    def fit(self, seeds: Sequence[Sample]) -> SeedClassifier:
        texts = [s.text for s in seeds if s.label in self.scheme.labels]
        labels = [str(s.label) for s in seeds if s.label in self.scheme.labels]
        counts = {label: labels.count(label) for label in self.scheme.labels}
        thin = [label for label, n in counts.items() if n < self.min_per_label]
        if thin:
            raise QualityError(
                f"the seed classifier needs at least {self.min_per_label} real seeds per label; "
                f"too few for {thin} (counts {counts}); add seeds or turn the classifier off "
                "(consistency.classifier: false)"
            )
        self.model = TfidfClassifier(
            self.scheme,
            C=4.0,
            class_weight="balanced",
            vectorizer={"strip_accents": None, "max_features": None},
            char_ngrams=True,
            lexicon=self.lexicon,
        ).fit(texts, labels)
        return self

    def proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities, one column per scheme label (in scheme order)."""
        if self.model is None:
            raise QualityError("the seed classifier is not trained; call fit() with real seeds first")
        return self.model.predict_proba(list(texts))


def judge_support(scheme: LabelScheme, label: str, judged: str | None) -> float | None:
    """1 when the judge agrees; on ordinal schemes less the further away its label is."""
    if judged is None:
        return None
    if judged == label:
        return 1.0
    if not scheme.ordinal:
        return 0.0
    distance = abs(scheme.labels.index(judged) - scheme.labels.index(label))
    return max(0.0, 1.0 - distance / (len(scheme.labels) - 1)) * 0.5


def classifier_support(scheme: LabelScheme, label: str, probs: np.ndarray) -> float:
    """The label's probability relative to the most probable label (1 when it is the top)."""
    return float(probs[scheme.labels.index(label)] / max(float(probs.max()), 1e-9))


def decide(
    scheme: LabelScheme, label: str, judged: str | None, probs: np.ndarray | None, config: ConsistencyConfig
) -> CheckResult:
    """Combine the two opinions on one sample's label into a verdict, by policy."""
    js = judge_support(scheme, label, judged)
    cs = classifier_support(scheme, label, probs) if probs is not None else None
    predicted = scheme.labels[int(np.argmax(probs))] if probs is not None else None
    supports = [s for s in (js, cs) if s is not None]
    if not supports:
        return CheckResult("flag", 0.5, "no second opinion available (judge abstained, no classifier)")
    score = float(np.mean(supports))
    judge_off = judged is not None and judged != label
    clf_off = predicted is not None and predicted != label
    detail = {"judge": judged, "classifier": predicted, "judge_support": js, "classifier_support": cs}
    if not judge_off and not clf_off:
        return CheckResult("pass", score, None, detail)
    who = " and ".join(n for n, off in (("judge", judge_off), ("seed classifier", clf_off)) if off)
    reason = f"label '{label}' disputed by {who} (judge: {judged}, classifier: {predicted}, score {score:.2f})"
    both = (judge_off or judged is None) and (clf_off or predicted is None)
    p_label = float(probs[scheme.labels.index(label)]) if probs is not None else 1.0
    if config.policy == "reject" and both and score < config.reject_below:
        return reject(reason, score, **detail)
    if config.policy == "reject" and clf_off and p_label < config.classifier_reject_below:
        return reject(f"{reason}; the seed classifier gives it p={p_label:.3f}", score, **detail)
    return flag(reason, score, **detail)


class LabelProbabilities(Protocol):
    """What the check needs of a classifier: probabilities in the scheme's label order."""

    def proba(self, texts: Sequence[str]) -> np.ndarray: ...


class OneStepClassifier:
    """Neutral against polar, trained on the same seeds: the targeted check for one-step flips.

    A label moved one step (a neutral text called positive, a mild complaint called neutral)
    keeps half the judge's support and much of the 3-way classifier's, so the dual check
    misses about half of them (benchmarks/quality: recall 0.52). This classifier answers only
    the question those flips turn on: does the text carry sentiment at all?"""

    def __init__(self, scheme: LabelScheme, *, min_per_label: int = 5, lexicon: bool = False) -> None:
        binary = LabelScheme(name="neutral-or-polar", kind="single", labels=(NEUTRAL, "polar"))
        self.classifier = SeedClassifier(binary, min_per_label=min_per_label, lexicon=lexicon)

    @staticmethod
    def applies(scheme: LabelScheme) -> bool:
        return scheme.kind == "single" and NEUTRAL in scheme.labels and len(scheme.labels) >= 3

    def fit(self, seeds: Sequence[Sample]) -> OneStepClassifier:
        sided = [s.model_copy(update={"label": side(str(s.label))}) for s in seeds if s.label is not None]
        self.classifier.fit(sided)
        return self

    def side_support(self, texts: Sequence[str], labels: Sequence[str]) -> np.ndarray:
        """The probability of each label's side (neutral or polar) for its text."""
        probs = self.classifier.proba(texts)
        return np.array([probs[i, 0 if side(label) == NEUTRAL else 1] for i, label in enumerate(labels)])


def side(label: str | None) -> str | None:
    return None if label is None else NEUTRAL if label == NEUTRAL else "polar"


def one_step(label: str, judged: str | None, p_side: float, config: ConsistencyConfig) -> CheckResult | None:
    """A verdict when the judge puts the text on the other side of neutral and the
    neutral-or-polar classifier gives the label's side less than ``one_step_below``."""
    if config.one_step == "off" or judged is None or side(judged) == side(label) or p_side >= config.one_step_below:
        return None
    reason = f"one-step flip: label '{label}' but the text reads as {judged} (p({side(label)}) = {p_side:.3f})"
    make = reject if config.one_step == "reject" else flag
    return make(reason, p_side, judge=judged, side_support=round(p_side, 4))


class ConsistencyCheck:
    """Dual-model label consistency for single-label schemes."""

    name: ClassVar[str] = "consistency"

    def __init__(
        self,
        scheme: LabelScheme,
        config: ConsistencyConfig,
        *,
        judge: LabelJudge | None = None,
        classifier: LabelProbabilities | None = None,
        sides: OneStepClassifier | None = None,
    ) -> None:
        if judge is None and classifier is None:
            raise QualityError("the consistency check needs a judge, a seed classifier, or both")
        self.scheme = scheme
        self.config = config
        self.judge = judge
        self.classifier = classifier
        self.sides = sides

    def run(self, samples: Sequence[Sample]) -> list[CheckResult]:
        if self.scheme.kind != "single":
            return [PASS for _ in samples]
        todo = [i for i, s in enumerate(samples) if s.label in self.scheme.labels]
        texts = [samples[i].text for i in todo]
        judged = self.judge.judge_many(texts) if self.judge is not None and texts else [None] * len(todo)
        probs = self.classifier.proba(texts) if self.classifier is not None and texts else None
        labels = [str(samples[i].label) for i in todo]
        sides = self.sides.side_support(texts, labels) if self.sides is not None and texts else None
        results: list[CheckResult] = [
            reject(f"label {s.label!r} is not in scheme '{self.scheme.name}'") for s in samples
        ]
        for k, i in enumerate(todo):
            row = probs[k] if probs is not None else None
            results[i] = decide(self.scheme, labels[k], judged[k], row, self.config)
            if sides is not None and results[i].verdict != "reject":
                results[i] = one_step(labels[k], judged[k], float(sides[k]), self.config) or results[i]
        return results


def build_consistency(
    scheme: LabelScheme, config: ConsistencyConfig, *, language: str, judge_client: Any, seeds: Sequence[Sample] | None
) -> ConsistencyCheck | None:
    """The check a config asks for, or None when it has neither a judge nor seeds to learn from."""
    if scheme.kind != "single":
        return None
    judge = (
        LabelJudge(judge_client, scheme, temperature=config.judge_temperature)
        if config.judge and judge_client is not None
        else None
    )
    if judge is not None and config.judge_calibration:
        judge.calibrate(seeds)
    lexicon = config.classifier_kind == "tfidf+lexicon" or (
        config.classifier_kind == "auto" and language.startswith("en")
    )
    learn = config.classifier and bool(seeds)
    classifier = SeedClassifier(scheme, min_per_label=config.min_seeds_per_label, lexicon=lexicon) if learn else None
    sides = None
    if learn and config.one_step != "off" and OneStepClassifier.applies(scheme):
        sides = OneStepClassifier(scheme, min_per_label=config.min_seeds_per_label, lexicon=lexicon)
    if judge is None and classifier is None:
        return None
    return ConsistencyCheck(
        scheme,
        config,
        judge=judge,
        classifier=classifier.fit(seeds) if classifier and seeds else None,
        sides=sides.fit(seeds) if sides and seeds else None,
    )
