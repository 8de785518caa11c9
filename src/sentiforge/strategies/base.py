"""The generation-strategy seam.

A strategy turns a :class:`Task` (one slot of a job's plan) into one :class:`Sample`,
accepted or rejected with a reason. It never builds a backend: it receives a
:class:`StepContext` holding the client, the scheme, the prompt library and the seed pool.
Plans are deterministic: ``task(i)`` depends only on the options, the job seed and ``i``,
which is what lets a killed job resume exactly where it stopped.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict

from sentiforge.backends.base import ChatRequest, Completion, Message
from sentiforge.backends.client import LLMClient
from sentiforge.errors import ConfigError, InvalidOutputError
from sentiforge.labels import LabelScheme
from sentiforge.prompts import PromptLibrary, Rendered
from sentiforge.samples import Provenance, Sample
from sentiforge.strategies.output import parse_json_object, single_string_field


def stable_seed(*parts: object) -> int:
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") & 0x7FFFFFFF


@dataclass(frozen=True)
class Task:
    step: int
    index: int
    seed: int
    target: str
    attributes: dict[str, Any] = field(default_factory=dict)
    parent: Sample | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    origin: int | None = None  # a refill task fills the quota cell of this failed slot

    @property
    def slot(self) -> str:
        """The quota cell this task fills: a refill takes over its failed origin's slot."""
        return f"{self.step}:{self.index if self.origin is None else self.origin}"

    @property
    def attempt_key(self) -> str:
        """Unique per task run, also for refills that share their origin's slot."""
        return f"{self.step}:{self.index}"

    def refilling(self, origin: Task) -> Task:
        """This refill index, with ``origin``'s target and attributes and a fresh seed."""
        return replace(origin, index=self.index, seed=self.seed, origin=origin.index)

    def rng(self, attempt: int) -> random.Random:
        return random.Random(stable_seed(self.seed, attempt))


@dataclass
class StepContext:
    client: LLMClient
    scheme: LabelScheme
    prompts: PromptLibrary
    language: str = "en"
    pool: Sequence[Sample] = ()  # real examples: few-shot and augmentation seeds
    job_seed: int = 0
    step: int = 0
    judge_dir: Path | None = None  # where fitted judge calibrations are kept (None: not kept)
    notes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # events for the job's log
    _systems: dict[tuple[str, str], str] = field(default_factory=dict, repr=False)
    _copies: Any = field(default=None, repr=False)
    _style: Any = field(default=None, repr=False)
    _judge: Any = field(default=None, repr=False)
    _judge_lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    async def label_judge(self) -> Any:
        """The step's calibrated label judge (:class:`~sentiforge.quality.label_judge.LabelJudge`),
        made once: calibrated on the pool's labelled seeds, else the packaged set of the kind."""
        async with self._judge_lock:
            if self._judge is None:
                from sentiforge.quality.label_judge import calibrated_judge

                self._judge = await calibrated_judge(self.client, self.scheme, self.pool, self.judge_dir)
                if self._judge.calibration is not None:
                    from sentiforge.quality.judge_calibration import describe

                    self.notes.append(("judge_calibrated", describe(self._judge.calibration)))
            return self._judge

    def style_profile(self) -> Any:
        """The pool's lengths and surface habits (:class:`~sentiforge.strategies.style.StyleProfile`)."""
        if self._style is None:
            from sentiforge.strategies.style import StyleProfile

            self._style = StyleProfile.measure([s.text for s in self.pool])
        return self._style

    def seed_copies(self) -> Any:
        """The pool indexed for copies (:class:`~sentiforge.quality.copies.SeedCopyIndex`), built once."""
        if self._copies is None:
            from sentiforge.quality.copies import SeedCopyIndex

            self._copies = SeedCopyIndex(self.pool)
        return self._copies

    def provenance(
        self, strategy: str, completion: Completion | None, rendered: Rendered | None, **params: Any
    ) -> Provenance:
        usage = completion.usage if completion is not None else None
        return Provenance(
            strategy=strategy,
            backend=self.client.backend.name,
            model=self.client.backend.model,
            template=rendered.template if rendered else None,
            template_hash=rendered.template_hash if rendered else None,
            params=params,
            prompt_tokens=usage.prompt_tokens if usage and not completion.cached else 0,  # type: ignore[union-attr]
            completion_tokens=usage.completion_tokens if usage and not completion.cached else 0,  # type: ignore[union-attr]
            cost=self.client.cost_of(completion) if completion is not None else 0.0,
        )

    def messages(self, user: Rendered, system_template: str = "system.j2") -> tuple[Message, ...]:
        key = (system_template, self.language)
        if key not in self._systems:  # the system prompt is the same for every slot of a step
            self._systems[key] = self.prompts.render(system_template, language=self.language).text
        return (Message(role="system", content=self._systems[key]), Message(role="user", content=user.text))

    async def ask_json(self, request: ChatRequest) -> tuple[dict[str, Any], Completion]:
        completion = await self.client.complete(request)
        return parse_json_object(completion.text, bare_field=single_string_field(request.json_schema)), completion


class Strategy(Protocol):
    """One way of making samples. ``Options`` is a pydantic model that forbids unknown keys."""

    name: ClassVar[str]
    refill: ClassVar[bool]  # may the engine add spare tasks when a slot's attempts run out?

    def size(self, ctx: StepContext) -> int: ...

    def task(self, index: int, ctx: StepContext) -> Task: ...

    async def run(self, task: Task, attempt: int, ctx: StepContext) -> Sample: ...


class StrategyOptions(BaseModel):
    """A recipe step's options: plain data, typed strictly (``"5"`` or ``true`` is no count)."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


REGISTRY: dict[str, Callable[[dict[str, Any]], Strategy]] = {}


def register(name: str) -> Callable[[type], type]:
    def deco(cls: type) -> type:
        REGISTRY[name] = lambda params: cls(cls.Options.model_validate(params))  # type: ignore[attr-defined]
        return cls

    return deco


def build_strategy(name: str, params: dict[str, Any]) -> Strategy:
    """A strategy by its registered name (importing this module ran ``sentiforge.strategies``,
    whose modules register the built-in ones)."""
    if name not in REGISTRY:
        raise ConfigError(f"unknown strategy {name!r}; choose one of {sorted(REGISTRY)}")
    try:
        return REGISTRY[name](params)
    except ValueError as exc:
        raise ConfigError(f"invalid options for strategy '{name}': {exc}") from exc


def rejected(task: Task, reason: str, text: str, provenance: Provenance, **fields: Any) -> Sample:
    """A sample that failed a check, kept with the reason."""
    return Sample(text=text or "<empty>", status="rejected", reason=reason, provenance=provenance, **fields)


async def guarded(coro: Any, task: Task, ctx: StepContext, strategy: str) -> Sample:
    """Turn an InvalidOutputError from a strategy into a rejected sample with its reason."""
    try:
        result: Sample = await coro
        return result
    except InvalidOutputError as exc:
        return rejected(task, f"invalid output: {exc}", exc.raw, ctx.provenance(strategy, None, None))
