"""What every seed-based augmentation shares: the plan over seeds, seed validation, the
polarity check, language names, and rejection with a named check.

The plan: slot ``i`` augments seed ``i // per_seed`` (variant ``i % per_seed``) of the
recipe's seed pool (its ``train`` split, never a holdout), so the plan depends only on the
pool's order and a resumed job redoes exactly the missing slots. Every output, accepted or
rejected, carries ``provenance.parent_id`` = the real seed it came from.

A rejection names the check that failed (``attributes["check"]``): the benchmark's
"share rejected by each check" is a count over that field.
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, Literal

from pydantic import Field

from sentiforge.backends.base import ChatRequest, Completion
from sentiforge.errors import InvalidOutputError, LabelError
from sentiforge.labels import Aspect, LabelScheme
from sentiforge.prompts import Rendered
from sentiforge.samples import Provenance, Sample
from sentiforge.strategies.base import StepContext, StrategyOptions, Task, stable_seed

LANGUAGE_NAMES = {
    "en": "English", "fr": "French", "es": "Spanish", "de": "German", "it": "Italian", "pt": "Portuguese",
    "nl": "Dutch", "ca": "Catalan", "pl": "Polish", "sv": "Swedish", "da": "Danish", "no": "Norwegian",
    "ru": "Russian", "uk": "Ukrainian", "tr": "Turkish", "ar": "Arabic", "zh": "Chinese", "ja": "Japanese",
    "ko": "Korean", "hi": "Hindi", "id": "Indonesian", "vi": "Vietnamese", "ro": "Romanian", "cs": "Czech",
    "el": "Greek", "fi": "Finnish", "hu": "Hungarian", "he": "Hebrew",
}  # fmt: skip
POLARITIES = ("negative", "neutral", "positive")


def language_name(code: str) -> str:
    """'fr' -> 'French'; an unknown code or a name the user typed is passed through."""
    return LANGUAGE_NAMES.get(code.lower(), code)


class Rejection(Exception):
    """A check failed: the slot's attempt becomes a rejected sample with this reason."""

    def __init__(self, check: str, reason: str, text: str = "") -> None:
        super().__init__(f"{check}: {reason}")
        self.check = check
        self.reason = reason
        self.text = text


class SeedOptions(StrategyOptions):
    """Options every per-seed strategy has."""

    per_seed: int = Field(default=2, ge=1, le=100)
    temperature: float = Field(default=0.8, ge=0.0, le=2.0)
    top_p: float = Field(default=0.95, gt=0.0, le=1.0)
    rationale: bool = False


def polarity_labels(scheme: LabelScheme) -> tuple[str, ...]:
    """Aspect polarities: the scheme's labels for aspect schemes, else negative/neutral/positive."""
    return scheme.labels if scheme.kind == "aspect" else POLARITIES


def check_seed(seed: Sample | None, ctx: StepContext) -> Sample:
    """The seed with its labels normalised, or a Rejection saying what is wrong with it."""
    if seed is None:
        raise Rejection("seed", "task has no seed sample")
    if seed.language.split("-")[0].lower() != ctx.language.split("-")[0].lower():
        raise Rejection(
            "seed",
            f"seed {seed.id} is in '{seed.language}' but the recipe writes '{ctx.language}'; translate the seeds "
            "first (strategy 'translate') or import seeds in that language",
            seed.text,
        )
    try:
        checked = seed.checked(ctx.scheme)
    except (LabelError, ValueError) as exc:
        raise Rejection("seed", f"seed {seed.id}: {exc}", seed.text) from exc
    for aspect in checked.aspects or []:
        from sentiforge.strategies.output import contains_term

        if not contains_term(checked.text, aspect.term):
            reason = f"seed {seed.id}: aspect term {aspect.term!r} does not occur in its text"
            raise Rejection("seed", reason, seed.text)
    return checked


def root_id(seed: Sample) -> int | None:
    """The real sample an augmentation points at. A seed that is an annotated copy of a real
    sentence (aspect extraction keeps the text) points through to that sentence."""
    p = seed.provenance
    if p.strategy == "extract_aspects" and p.parent_id is not None:
        return p.parent_id
    return seed.id


def label_fields(seed: Sample, aspects: list[Aspect] | None) -> dict[str, Any]:
    """The output's label: the seed's label or label set; aspects when the scheme or seed has them."""
    fields: dict[str, Any] = {"label": seed.label, "labels": seed.labels}
    if aspects:
        fields["aspects"] = aspects
    return fields


class Memo:
    """Shares one in-flight request per key between concurrent slots (variants of a seed ask
    the same extraction/judge question); finished answers come from the response cache."""

    def __init__(self) -> None:
        self._inflight: dict[str, asyncio.Future[Any]] = {}

    async def get(self, key: str, make: Callable[[], Awaitable[Any]]) -> Any:
        if key in self._inflight:
            return await asyncio.shield(self._inflight[key])
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            value = await make()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters re-raise it, nobody else must
            del self._inflight[key]
            raise
        future.set_result(value)
        del self._inflight[key]
        return value


async def judge(ctx: StepContext, memo: Memo, text: str, term: str | None) -> str:
    """The polarity of ``text`` (towards ``term`` when given), constrained to the labels."""
    scheme = ctx.scheme
    labels = scheme.labels if scheme.kind == "single" or term else polarity_labels(scheme)
    if scheme.kind == "multi":
        labels = POLARITIES
    rendered = ctx.prompts.render(
        "polarity_check.j2",
        language=ctx.language,
        text=text,
        term=term,
        labels=[(label, scheme.describe(label, ctx.language) if scheme.kind != "multi" else label) for label in labels],
        language_name=language_name(ctx.language),
    )
    request = ChatRequest(
        messages=ctx.messages(rendered),
        temperature=0.0,
        max_tokens=8,
        seed=stable_seed("judge", text, term),
        grammar_choices=tuple(labels),
    )

    async def ask() -> str:
        completion = await ctx.client.complete(request)
        answer = completion.text.strip().strip('."').lower()
        for label in labels:
            if answer == label.lower():
                return label
        raise InvalidOutputError(f"judge answered {completion.text!r}, not one of {list(labels)}", raw=completion.text)

    result: str = await memo.get(request.cache_key(ctx.client.backend.key), ask)
    return result


async def check_polarity(
    ctx: StepContext, memo: Memo, seed: Sample, new_text: str, term: str | None, new_term: str | None = None
) -> dict[str, str]:
    """Polarity unchanged: the judge reads the seed and the output the same way.

    Comparing with the judge's reading of the seed (not the human label) measures the
    *change* a rewrite made, so the judge's own errors on hard seeds do not reject faithful
    rewrites; the output keeps the seed's human label either way.
    """
    before = await judge(ctx, memo, seed.text, term)
    after = await judge(ctx, memo, new_text, new_term or term)
    if before != after:
        about = f" about {new_term or term!r}" if term else ""
        reason = f"the judge reads the seed as {before!r} but the output{about} as {after!r}"
        raise Rejection("polarity", reason, new_text)
    return {"judge_seed": before, "judge_output": after}


def text_schema(rationale: bool, **extra: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = {"text": {"type": "string", "minLength": 5}, **extra}
    required = ["text", *extra]
    if rationale:
        props["rationale"] = {"type": "string"}
        required.append("rationale")
    return {"type": "object", "properties": props, "required": required}


def take_rationale(data: dict[str, Any], wanted: bool, text: str) -> str | None:
    if not wanted:
        return None
    rationale = data.get("rationale")
    if not isinstance(rationale, str) or not rationale.strip():
        raise Rejection("rationale", "rationale missing or empty", text)
    return rationale.strip()


class SeedStrategy(abc.ABC):
    """Base of strategies that make ``per_seed`` variants of each seed in the pool; a subclass
    implements :meth:`_run` (one attempt at one variant) and raises Rejection to reject."""

    name: ClassVar[str]
    refill: ClassVar[bool] = False
    options: SeedOptions

    def size(self, ctx: StepContext) -> int:
        return len(ctx.pool) * self.options.per_seed

    def task(self, index: int, ctx: StepContext) -> Task:
        seed_index, variant = divmod(index, self.options.per_seed)
        parent = ctx.pool[seed_index] if seed_index < len(ctx.pool) else None
        # The slot's seed depends on the seed's text and the variant, not on the index: variant v
        # of a seed asks the same thing whatever per_seed is, so a larger rerun reuses the cache.
        return Task(
            ctx.step,
            index,
            stable_seed(ctx.job_seed, self.name, parent.text if parent else index, variant),
            parent.target() if parent else "",
            parent=parent,
            extra={"seed_index": seed_index, "variant": variant},
        )

    def base_provenance(self, task: Task, ctx: StepContext, attempt: int) -> Provenance:
        seed = task.parent
        p = ctx.provenance(self.name, None, None, attempt=attempt, variant=task.extra.get("variant"))
        return p.model_copy(update={"parent_id": root_id(seed) if seed else None})

    def provenance(
        self,
        task: Task,
        ctx: StepContext,
        completion: Completion | None,
        rendered: Rendered | None,
        request: ChatRequest,
        attempt: int,
    ) -> Provenance:
        params = {
            "temperature": request.temperature,
            "seed": request.seed,
            "attempt": attempt,
            "max_tokens": request.max_tokens,
            "variant": task.extra.get("variant"),
        }
        p = ctx.provenance(self.name, completion, rendered, **params)
        return p.model_copy(update={"parent_id": root_id(task.parent) if task.parent else None})

    async def run(self, task: Task, attempt: int, ctx: StepContext) -> Sample:
        state: dict[str, Any] = {"provenance": self.base_provenance(task, ctx, attempt)}
        try:
            return await self._run(task, attempt, ctx, state)
        except Rejection as exc:
            return self.rejected(task, exc.check, exc.reason, exc.text, state["provenance"])
        except InvalidOutputError as exc:
            check = state.get("stage", "format")
            return self.rejected(task, check, f"invalid output: {exc}", exc.raw, state["provenance"])

    def rejected(self, task: Task, check: str, reason: str, text: str, provenance: Provenance) -> Sample:
        seed = task.parent
        attributes = {"check": check, "variant": task.extra.get("variant")}
        return Sample(
            text=text or "<empty>",
            status="rejected",
            reason=f"{check}: {reason}",
            provenance=provenance,
            attributes=attributes,
            language=seed.language if seed else "en",
        )

    @abc.abstractmethod
    async def _run(self, task: Task, attempt: int, ctx: StepContext, state: dict[str, Any]) -> Sample: ...


CheckMode = Literal["judge", "off"]
