"""The label judge: an LLM that scores every label of a scheme at once, calibrated on real text.

Asking a small model for one label and taking its word guesses: the 1.5B model answers
"negative" or "positive" for almost any customer message, and said "neutral" for 15% of the
neutral tweets. Its first-token log-probabilities still rank the labels well. So the judge
asks for one answer token with ``top_logprobs`` (no free text), turns the alternatives into
a probability for each label, and decides by ``argmax(log p + offset)`` with one offset per
label fitted on labelled text (:class:`JudgeCalibration`): the job's seeds when it has them,
else a packaged real set of the same kind (tweets for 3/5/7 levels, review sentences for
binary). The calibration carries its own cross-validated precision and recall per label, so
a user sees how far the judge can be trusted on each label before using it.

A backend that returns no log-probabilities (the fake, some APIs) still works: its answer is
read as a label, with the scheme's labels as the only allowed answers (``grammar_choices``).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sentiforge.backends.base import ChatRequest, Message
from sentiforge.backends.client import LLMClient
from sentiforge.errors import BackendError, LabelError, QualityError
from sentiforge.labels import LabelScheme
from sentiforge.quality.judge_calibration import (
    JudgeCalibration,
    calibrate,
    calibration_texts,
    judge_id,
    packaged_calibration,
)
from sentiforge.quality.loop import LoopThread
from sentiforge.samples import Sample

JUDGE_SYSTEM = (
    "You are a careful annotator of sentiment in short texts such as tweets, reviews and "
    "customer messages. You read the text and name the sentiment its author expresses. "
    "You answer with one label and nothing else."
)
JUDGE_TEXT_CHARS = 2000  # the judge reads at most this much of a text
TOP_LOGPROBS = 20


def answer_words(scheme: LabelScheme) -> list[str]:
    """What the judge is asked to answer for each label: the label itself, or its number when
    two labels start with the same word ("very negative", "very positive")."""
    firsts = [label.split()[0].lower() for label in scheme.labels]
    if len(set(firsts)) == len(firsts):
        return list(scheme.labels)
    return [str(i + 1) for i in range(len(scheme.labels))]


def label_probabilities(logprobs: dict[str, float], words: Sequence[str]) -> np.ndarray | None:
    """Each answer word's probability from the first token's alternatives: a token counts for
    the one word it begins (case and surrounding space ignored); a token that begins two words
    counts for neither. Renormalised over the words; None when no token begins any."""
    lowered = [w.lower() for w in words]
    mass = np.zeros(len(words))
    for token, logprob in logprobs.items():
        piece = token.strip().strip('"\'*').lower()
        if not piece:
            continue
        hits = [i for i, w in enumerate(lowered) if w.startswith(piece)]
        if len(hits) == 1:
            mass[hits[0]] += np.exp(logprob)
    total = float(mass.sum())
    return mass / total if total > 0 else None


class LabelJudge:
    """An LLM asked for the label of a text: probabilities for every label, then a decision."""

    def __init__(
        self,
        client: LLMClient,
        scheme: LabelScheme,
        *,
        temperature: float = 0.0,
        calibration: JudgeCalibration | None = None,
    ) -> None:
        if scheme.kind != "single":
            raise QualityError(f"the label judge handles single-label schemes, not '{scheme.name}' ({scheme.kind})")
        self.client = client
        self.scheme = scheme
        self.temperature = temperature
        self.words = answer_words(scheme)
        self.calibration = calibration
        self._prefix = self._instructions()
        self._loop: LoopThread | None = None
        self._no_logprobs = False  # the backend answered without them once: ask for a choice directly
        if calibration is not None:
            calibration.check(scheme)

    def _instructions(self) -> str:
        lines = []
        for word, label in zip(self.words, self.scheme.labels, strict=True):
            described = self.scheme.describe(label)
            name = label if word == label else f"{word} = {label}"
            lines.append(f"- {name}" + (f": {described}" if described != label else ""))
        order = " (ordered from most negative to most positive)" if self.scheme.ordinal else ""
        answer = "the label only" if self.words == list(self.scheme.labels) else "the label's number only"
        return (
            f"Labels{order}:\n" + "\n".join(lines) + "\n\n"
            f"Which label best describes the sentiment of the following text? Answer with {answer}.\n\nText: "
        )

    @property
    def prompt_id(self) -> str:
        """What a calibration is valid for: these instructions (a changed description is a new judge)."""
        return hashlib.sha256((JUDGE_SYSTEM + self._prefix).encode()).hexdigest()[:12]

    def request(self, text: str) -> ChatRequest:
        # Instructions first, text last: the shared prefix stays in the server's prompt cache.
        return ChatRequest(
            messages=(
                Message(role="system", content=JUDGE_SYSTEM),
                Message(role="user", content=self._prefix + text[:JUDGE_TEXT_CHARS]),
            ),
            temperature=self.temperature,
            max_tokens=1,
            seed=0,
            top_logprobs=TOP_LOGPROBS,
        )

    def choice_request(self, text: str) -> ChatRequest:
        """The same question with the answer constrained to the words (no log-probabilities)."""
        return self.request(text).model_copy(
            update={"top_logprobs": None, "max_tokens": 8, "grammar_choices": tuple(self.words)}
        )

    async def ascore(self, text: str) -> np.ndarray | None:
        """The probability of each label (scheme order), or None when the judge gave no usable answer."""
        try:
            if not self._no_logprobs:
                completion = await self.client.complete(self.request(text))
                if completion.logprobs:
                    return label_probabilities(completion.logprobs, self.words)
                self._no_logprobs = True
            completion = await self.client.complete(self.choice_request(text))
            answer = completion.text.strip().strip('."').lower()
            word = next((i for i, w in enumerate(self.words) if w.lower() == answer), None)
            if word is None:
                word = self.scheme.labels.index(self.scheme.normalize(answer))
        except (LabelError, BackendError):
            return None
        return np.eye(len(self.words))[word]

    def decide(self, probs: np.ndarray | None) -> str | None:
        if probs is None:
            return None
        if self.calibration is None:
            return self.scheme.labels[int(np.argmax(probs))]
        return self.calibration.decide(probs)

    async def ajudge(self, text: str) -> str | None:
        """The judge's label, or None when it gave no usable answer (counted as abstaining)."""
        return self.decide(await self.ascore(text))

    async def ascore_many(self, texts: Sequence[str]) -> list[np.ndarray | None]:
        return list(await asyncio.gather(*(self.ascore(t) for t in texts)))

    async def ajudge_many(self, texts: Sequence[str]) -> list[str | None]:
        return [self.decide(p) for p in await self.ascore_many(texts)]

    def judge_many(self, texts: Sequence[str]) -> list[str | None]:
        """Sync entry point (the gate is sync); all batches share one event loop."""
        return self._run(self.ajudge_many(texts))

    def score_many(self, texts: Sequence[str]) -> list[np.ndarray | None]:
        return self._run(self.ascore_many(texts))

    def _run(self, coro: Any) -> Any:
        if self._loop is None:
            self._loop = LoopThread()
        return self._loop.run(coro)

    def calibrate(self, seeds: Sequence[Sample] | None, keep_in: Path | None = None) -> JudgeCalibration | None:
        """Sync :func:`fit_calibration` (the gate, pseudo-labels): sets and returns the calibration."""
        self.calibration = self._run(fit_calibration(self, seeds, keep_in))
        return self.calibration

    def close(self) -> None:
        if self._loop is not None:
            self._loop.close()
            self._loop = None


async def calibrated_judge(
    client: LLMClient, scheme: LabelScheme, seeds: Sequence[Sample] | None, keep_in: Path | None
) -> LabelJudge:
    """A new judge, calibrated (see :func:`fit_calibration`)."""
    judge = LabelJudge(client, scheme)
    judge.calibration = await fit_calibration(judge, seeds, keep_in)
    return judge


async def fit_calibration(
    judge: LabelJudge, seeds: Sequence[Sample] | None, keep_in: Path | None
) -> JudgeCalibration | None:
    """The judge's calibration: fitted on the seeds when they cover every label, else the one
    shipped for this model, else one kept in ``keep_in`` from an earlier run, else fitted now
    on the packaged set of the scheme's kind (and kept). None where neither seeds nor a
    packaged set serve the scheme, or the judge abstained on too many texts to fit."""
    scheme, key = judge.scheme, judge.client.backend.key
    try:
        source, texts = calibration_texts(scheme, seeds)
    except QualityError:
        return None
    jid = judge_id(key, judge.prompt_id, scheme.labels)
    kept = keep_in / f"judge-{jid}.json" if keep_in is not None else None
    if source != "seeds":
        found = packaged_calibration(key, scheme, judge.prompt_id)
        found = found or (JudgeCalibration.load(kept) if kept is not None and kept.is_file() else None)
        if found is not None:
            return found
    probs = await judge.ascore_many([s.text for s in texts])
    try:
        fitted = calibrate(probs, [str(s.label) for s in texts], list(scheme.labels), source=source)
    except QualityError:
        return None
    fitted = fitted.model_copy(update={"judge_id": jid})
    if kept is not None and source != "seeds":
        fitted.save(kept)
    return fitted


__all__ = ["JUDGE_SYSTEM", "LabelJudge", "answer_words", "calibrated_judge", "fit_calibration", "label_probabilities"]
