"""Backtranslation (seed -> pivot language(s) -> seed's language) and plain translation of
seeds into another language (to make few-shot examples or seeds for a French recipe).

Two engines: the configured LLM backend (a translate prompt, JSON answer), or Debian's
rule-based Apertium where its language pair is installed (deterministic, fast, rougher).
A round trip is rejected when it comes back identical, or when its embedding similarity to
the seed falls outside [min_similarity, max_similarity]: below, the meaning drifted; above,
it adds nothing but a near-copy. The similarity uses MiniLM for English and the
multilingual E5 model otherwise; their cosine scales differ, hence per-model defaults.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from sentiforge.backends.base import ChatRequest, Message
from sentiforge.embeddings import cosine_pairs, embedder_for_language, get_embedder
from sentiforge.errors import ConfigError, InvalidOutputError
from sentiforge.labels import Aspect
from sentiforge.samples import Sample, normalize_text
from sentiforge.strategies import apertium
from sentiforge.strategies.base import StepContext, Task, register, stable_seed
from sentiforge.strategies.output import check_text, contains_term, parse_json_object
from sentiforge.strategies.seeded import (
    Memo,
    Rejection,
    SeedOptions,
    SeedStrategy,
    check_polarity,
    check_seed,
    label_fields,
    language_name,
    text_schema,
)

# (min, max) cosine similarity of a round trip to its seed, per embedder. MiniLM's lower
# bound was calibrated on Yelp sentences through French with the 1.5B model: faithful round
# trips of short sentences score 0.63-0.70 ("off night ... disgraceful" -> "night out of
# the norm ... abominable"), so 0.70 rejected good ones; below 0.6 the meaning has moved.
DEFAULT_BOUNDS = {"minilm": (0.60, 0.985), "multilingual": (0.85, 0.995), "fake": (0.30, 0.99)}

Engine = Literal["llm", "apertium"]


class Translator:
    """One hop of translation with the chosen engine; LLM hops are cached like any request."""

    def __init__(self, engine: Engine, temperature: float) -> None:
        self.engine = engine
        self.temperature = temperature

    async def __call__(self, ctx: StepContext, text: str, source: str, target: str, seed: int) -> tuple[str, Any]:
        if self.engine == "apertium":
            return await apertium.translate(text, source, target), None
        rendered = ctx.prompts.render(
            "translate.j2",
            language=target,
            text=text,
            source_name=language_name(source),
            target_name=language_name(target),
        )
        # The system prompt speaks the hop's target language (fr/system.j2 asks for French).
        system = ctx.prompts.render("system.j2", language=target)
        messages = (Message(role="system", content=system.text), Message(role="user", content=rendered.text))
        request = ChatRequest(
            messages=messages,
            temperature=self.temperature,
            max_tokens=min(1024, 40 + 4 * len(text.split())),
            seed=seed,
            json_schema=text_schema(False),
        )
        completion = await ctx.client.complete(request)
        out = parse_json_object(completion.text).get("text")
        try:
            return check_text(out, min_words=1), completion
        except InvalidOutputError as exc:
            raise Rejection("format", f"translation {source}->{target}: {exc}", str(out or "")) from exc


def parse_route(route: str) -> list[str]:
    hops = [h.strip().lower() for h in route.replace(",", ">").split(">") if h.strip()]
    if not hops:
        raise ConfigError(f"empty backtranslation route {route!r}; write pivots like 'fr' or 'es>fr'")
    return hops


class BacktranslateOptions(SeedOptions):
    per_seed: int = Field(default=1, ge=1, le=100)
    routes: list[str] = Field(default_factory=lambda: ["fr"], min_length=1)  # variant v takes routes[v % len]
    engine: Engine = "llm"
    temperature: float = Field(default=0.3, ge=0.0, le=2.0)
    embedder: str | None = None  # default: MiniLM for English, the multilingual model otherwise
    min_similarity: float | None = Field(default=None, ge=-1.0, le=1.0)
    max_similarity: float | None = Field(default=None, ge=-1.0, le=1.0)
    check_polarity: Literal["judge", "off"] = "judge"

    @field_validator("routes")
    @classmethod
    def _routes(cls, value: list[str]) -> list[str]:
        for route in value:
            parse_route(route)
        return value


def bounds(options: BacktranslateOptions, embedder_name: str) -> tuple[float, float]:
    low, high = DEFAULT_BOUNDS.get(embedder_name, (0.7, 0.99))
    return (
        options.min_similarity if options.min_similarity is not None else low,
        options.max_similarity if options.max_similarity is not None else high,
    )


@register("backtranslate")
class Backtranslate(SeedStrategy):
    """Seed -> pivot(s) -> back. Label (and surviving aspects) from the seed."""

    name: ClassVar[str] = "backtranslate"
    Options = BacktranslateOptions
    options: BacktranslateOptions

    def __init__(self, options: BacktranslateOptions) -> None:
        self.options = options
        self.memo = Memo()
        self.translate = Translator(options.engine, options.temperature)
        if options.engine == "apertium":
            apertium.require_binary()

    async def _run(self, task: Task, attempt: int, ctx: StepContext, state: dict[str, Any]) -> Sample:
        o = self.options
        seed = check_seed(task.parent, ctx)
        variant = int(task.extra.get("variant", 0))
        route = parse_route(o.routes[variant % len(o.routes)])
        chain = [seed.language, *route, seed.language]
        text, hops, tokens = seed.text, [], [0, 0]
        state["stage"] = "format"
        for hop, (source, target) in enumerate(itertools.pairwise(chain)):
            text, completion = await self.translate(ctx, text, source, target, stable_seed(task.seed, attempt, hop))
            hops.append(text)
            if completion is not None:
                tokens[0] += 0 if completion.cached else completion.usage.prompt_tokens
                tokens[1] += 0 if completion.cached else completion.usage.completion_tokens
        state["provenance"] = state["provenance"].model_copy(
            update={
                "prompt_tokens": tokens[0],
                "completion_tokens": tokens[1],
                "template": "translate.j2",
                "params": {
                    "route": ">".join(route),
                    "engine": o.engine,
                    "attempt": attempt,
                    "variant": variant,
                    "temperature": o.temperature,
                },
            }
        )
        similarity = await self.check_round_trip(seed, text)
        aspects = self.surviving_aspects(seed, text)
        checks: dict[str, str] = {}
        if o.check_polarity == "judge":
            state["stage"] = "polarity"
            checks = await check_polarity(ctx, self.memo, seed, text, None)
        attributes = {
            **seed.attributes,
            "variant": variant,
            "route": ">".join(route),
            "pivot_text": hops[-2],
            "similarity": round(similarity, 4),
            **checks,
        }
        return Sample(
            text=text,
            language=seed.language,
            attributes=attributes,
            provenance=state["provenance"],
            **label_fields(seed, aspects),
        )

    async def check_round_trip(self, seed: Sample, text: str) -> float:
        if normalize_text(text) == normalize_text(seed.text):
            raise Rejection("identical", "the round trip came back identical to the seed", text)
        name = self.options.embedder
        embedder = get_embedder(name) if name else embedder_for_language(seed.language)
        similarity = float((await asyncio.to_thread(cosine_pairs, embedder, [seed.text], [text]))[0])
        low, high = bounds(self.options, embedder.name)
        if similarity < low:
            raise Rejection("drift", f"similarity {similarity:.3f} to the seed is below {low} ({embedder.name})", text)
        if similarity > high:
            raise Rejection("identical", f"near-identical: similarity {similarity:.3f} above {high}", text)
        return similarity

    def surviving_aspects(self, seed: Sample, text: str) -> list[Aspect] | None:
        if not seed.aspects:
            return None
        kept = [a for a in seed.aspects if contains_term(text, a.term)]
        if not kept:
            lost = [a.term for a in seed.aspects]
            raise Rejection("term", f"every aspect term {lost} was lost in the round trip", text)
        return kept


class TranslateOptions(SeedOptions):
    per_seed: int = Field(default=1, ge=1, le=1)
    target: str = Field(min_length=2)
    engine: Engine = "llm"
    temperature: float = Field(default=0.2, ge=0.0, le=2.0)


@register("translate")
class Translate(SeedStrategy):
    """A copy of each seed in another language, label and split kept: seeds and few-shot
    examples for a recipe in that language. Runs in a recipe whose language is the seeds'."""

    name: ClassVar[str] = "translate"
    Options = TranslateOptions
    options: TranslateOptions

    def __init__(self, options: TranslateOptions) -> None:
        self.options = options
        self.translate = Translator(options.engine, options.temperature)
        if options.engine == "apertium":
            apertium.require_binary()

    async def _run(self, task: Task, attempt: int, ctx: StepContext, state: dict[str, Any]) -> Sample:
        seed = check_seed(task.parent, ctx)
        target = self.options.target.lower()
        state["stage"] = "format"
        text, completion = await self.translate(ctx, seed.text, seed.language, target, stable_seed(task.seed, attempt))
        if completion is not None:
            state["provenance"] = state["provenance"].model_copy(
                update={
                    "prompt_tokens": 0 if completion.cached else completion.usage.prompt_tokens,
                    "completion_tokens": 0 if completion.cached else completion.usage.completion_tokens,
                }
            )
        if normalize_text(text) == normalize_text(seed.text):
            raise Rejection("identical", "the translation is identical to the source (left untranslated?)", text)
        aspects = None
        if seed.aspects:
            aspects = [await self.translate_aspect(ctx, a, seed.language, target, text) for a in seed.aspects]
        attributes = {**seed.attributes, "source_text": seed.text, "source_language": seed.language}
        provenance = state["provenance"].model_copy(update={"parent_id": seed.id, "template": "translate.j2"})
        return Sample(
            text=text,
            language=target,
            split=seed.split,
            attributes=attributes,
            provenance=provenance,
            **label_fields(seed, aspects),
        )

    async def translate_aspect(self, ctx: StepContext, aspect: Aspect, source: str, target: str, text: str) -> Aspect:
        term, _ = await self.translate(ctx, aspect.term, source, target, stable_seed("term", aspect.term, target))
        term = term.strip().strip(".")
        if not contains_term(text, term):
            reason = f"aspect {aspect.term!r} translates to {term!r}, which is not in the translation"
            raise Rejection("term", reason, text)
        return aspect.model_copy(update={"term": term})
