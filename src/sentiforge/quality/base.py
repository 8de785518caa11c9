"""The quality-check seam: a check looks at a batch of samples and returns one result each.

A result is a verdict (``pass``, ``flag`` or ``reject``), a sub-score in [0, 1] and, unless
it passed, a reason a person can read. Checks never drop anything: the gate keeps every
sample with its record, and a rejected sample keeps the reason that rejected it.

Checks that need to see the whole dataset (duplicates) keep their own state across
batches, so the gate can stream a dataset of any size through them in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol

from sentiforge.samples import Sample

Verdict = Literal["pass", "flag", "reject"]
VERDICTS: tuple[Verdict, ...] = ("pass", "flag", "reject")


@dataclass(frozen=True)
class CheckResult:
    """One check's opinion of one sample."""

    verdict: Verdict = "pass"
    score: float = 1.0
    reason: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"verdict": self.verdict, "score": round(float(self.score), 4)}
        if self.reason:
            out["reason"] = self.reason
        if self.detail:
            out["detail"] = self.detail
        return out


PASS = CheckResult()


def flag(reason: str, score: float = 0.5, **detail: Any) -> CheckResult:
    return CheckResult("flag", score, reason, detail)


def reject(reason: str, score: float = 0.0, **detail: Any) -> CheckResult:
    return CheckResult("reject", score, reason, detail)


class Check(Protocol):
    """A quality check. ``run`` gets the samples of one batch that no earlier check
    rejected, in dataset order, and returns one result per sample in the same order."""

    name: ClassVar[str]

    def run(self, samples: Sequence[Sample]) -> list[CheckResult]: ...


def sample_ref(sample: Sample, position: int) -> str:
    """How a reason names another sample: its store id, else its position in the stream."""
    return f"sample {sample.id}" if sample.id is not None else f"item #{position}"
