"""The aspect rewrite that CDA, ADA and CADA share (a template method): pick the seed's
focus aspect, optionally pick a replacement term, ask for the rewrite, then check it in code.
Each strategy's module sets its template and switches, and adds checks of its own.

Replacement terms (ADA, CADA) are deterministic across resume and distinct per seed: one
cached, temperature-0 request per (seed text, aspect term) asks for a list of candidate
terms of the same category; the list is cleaned (not the original, not already in the
text, no repeats) and variant ``r`` of that aspect on attempt ``a`` takes candidate
``r + a * m`` (``m`` = how many variants share the aspect). So two variants, or two
attempts, never get the same term, and a resumed job hands every slot the term it had
before, whichever slots happened to be accepted.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

from pydantic import Field

from sentiforge.backends.base import ChatRequest
from sentiforge.errors import InvalidOutputError
from sentiforge.labels import Aspect
from sentiforge.samples import Sample, normalize_text
from sentiforge.strategies.base import StepContext, Task, stable_seed
from sentiforge.strategies.extract_aspects import seed_aspects
from sentiforge.strategies.generate import POLARITY_FR
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
    take_rationale,
    text_schema,
)

STYLES = (
    "use different words for the same ideas",
    "change the order of the clauses",
    "make it sound a little more casual",
    "make it sound a little more formal",
    "start the sentence differently",
    "make it a bit more concise",
)
STYLES_FR = (
    "emploie d'autres mots pour les mêmes idées",
    "change l'ordre des propositions",
    "prends un ton un peu plus familier",
    "prends un ton un peu plus soutenu",
    "commence la phrase autrement",
    "sois un peu plus concis",
)


class AspectRewriteOptions(SeedOptions):
    extract: bool = True  # extract aspects (one cached LLM call per seed) when a seed has none
    max_aspects: int = Field(default=3, ge=1, le=10)
    check_polarity: Literal["judge", "off"] = "judge"
    candidates: int = Field(default=8, ge=1, le=30)  # replacement terms asked for per aspect (ADA, CADA)


def max_words(text: str) -> int:
    """A length cap for a rewrite: small models otherwise turn a 4-word seed into a paragraph."""
    return max(12, int(len(text.split()) * 1.5) + 6)


def without_term(text: str, term: str) -> str:
    return re.sub(r"(?<!\w)" + re.escape(term.strip()) + r"(?!\w)", " ", text, flags=re.IGNORECASE)


_DETERMINER = re.compile(
    r"^(?:another|other|a|an|the|some|this|that|un|une|le|la|les|l'|des|du|autre)\s+", re.IGNORECASE
)


def _stem(word: str) -> str:
    """Plural-insensitive key (pizza/pizzas, dish/dishes, prix/prix)."""
    word = word.strip()
    for suffix in ("es", "s", "x"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            return word[: -len(suffix)]
    return word


def clean_candidates(raw: Any, term: str, text: str) -> list[str]:
    """Usable replacement terms: strings, short, not the original, not already in the text, no repeats."""
    out: list[str] = []
    seen = {term.casefold().strip()}
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, str):
            continue
        cand = _DETERMINER.sub("", item.strip().strip("\"'.,;")).strip()
        key = cand.casefold()
        if not cand or key in seen or len(cand.split()) > 4 or contains_term(text, cand):
            continue
        if contains_term(cand, term) or contains_term(term, cand) or _stem(key) == _stem(term.casefold()):
            continue  # "pizza" -> "pizzas" or "cheese pizza" is not a different aspect
        seen.add(key)
        out.append(cand)
    return out


class AspectRewrite(SeedStrategy):
    """Template method: subclasses set the template and the term checks."""

    template: ClassVar[str]
    replaces: ClassVar[bool] = False  # ADA and CADA swap the aspect term for a new one
    options: AspectRewriteOptions

    def __init__(self, options: AspectRewriteOptions) -> None:
        self.options = options
        self.memo = Memo()

    async def _run(self, task: Task, attempt: int, ctx: StepContext, state: dict[str, Any]) -> Sample:
        o = self.options
        seed = check_seed(task.parent, ctx)
        state["stage"] = "extraction"
        aspects = await seed_aspects(ctx, self.memo, seed, extract=o.extract, max_aspects=o.max_aspects)
        variant = int(task.extra.get("variant", 0))
        focus = aspects[variant % len(aspects)]
        new_term = None
        if self.replaces:
            state["stage"] = "replacement"
            new_term = await self.replacement(ctx, seed, focus, variant, len(aspects), attempt)
        state["stage"] = "format"
        request, rendered = self.request(task, attempt, ctx, seed, focus, new_term)
        completion = await ctx.client.complete(request)
        state["provenance"] = self.provenance(task, ctx, completion, rendered, request, attempt)
        data = parse_json_object(completion.text)
        try:
            text = check_text(data.get("text"))
        except InvalidOutputError as exc:
            raise Rejection("format", str(exc), str(data.get("text", ""))) from exc
        self.check_terms(text, seed.text, focus.term, new_term)
        rationale = take_rationale(data, o.rationale, text)
        checks: dict[str, str] = {}
        if o.check_polarity == "judge":
            state["stage"] = "polarity"
            term = focus.term if ctx.scheme.kind == "aspect" else None
            checks = await check_polarity(ctx, self.memo, seed, text, term, new_term if term else None)
        return self.output(seed, text, rationale, aspects, focus, new_term, variant, checks, state)

    def output(
        self,
        seed: Sample,
        text: str,
        rationale: str | None,
        aspects: list[Aspect],
        focus: Aspect,
        new_term: str | None,
        variant: int,
        checks: dict[str, str],
        state: dict[str, Any],
    ) -> Sample:
        kept: list[Aspect] = []
        for a in aspects:
            if a is focus and new_term:
                kept.append(a.model_copy(update={"term": new_term}))
            elif contains_term(text, a.term):
                kept.append(a)
        attributes = {**seed.attributes, "variant": variant, "aspect": focus.term, **checks}
        if new_term:
            attributes["replacement"] = new_term
        return Sample(
            text=text,
            language=seed.language,
            rationale=rationale,
            attributes=attributes,
            provenance=state["provenance"],
            **label_fields(seed, kept if seed.aspects else None),
        )

    def check_terms(self, text: str, seed_text: str, term: str, new_term: str | None) -> None:
        if normalize_text(text) == normalize_text(seed_text):
            raise Rejection("unchanged", "the output is the seed itself", text)
        if new_term is None:
            if not contains_term(text, term):
                raise Rejection("term", f"the aspect term {term!r} is not in the output verbatim", text)
            return
        if not contains_term(text, new_term):
            raise Rejection("term", f"the replacement {new_term!r} is not in the output verbatim", text)
        if contains_term(without_term(text, new_term), term):
            raise Rejection("term", f"the original aspect term {term!r} is still in the output", text)

    def style(self, variant: int, attempt: int, language: str) -> str:
        styles = STYLES_FR if language == "fr" else STYLES
        return styles[(variant + attempt) % len(styles)]

    def request(
        self, task: Task, attempt: int, ctx: StepContext, seed: Sample, focus: Aspect, new_term: str | None
    ) -> tuple[ChatRequest, Any]:
        o = self.options
        fr = ctx.language == "fr"
        label = None
        if ctx.scheme.kind == "single" and seed.label:
            # a polarity word stays bare here (a rewrite keeps the seed's sentiment; the long
            # description is for writing or judging a label from scratch)
            label = seed.label if seed.label in POLARITY_FR else ctx.scheme.describe(seed.label)
            label = POLARITY_FR.get(label, label) if fr else label
        hint: dict[str, str] = {"text": "..."}
        if o.rationale:
            hint["rationale"] = "..."
        import json

        rendered = ctx.prompts.render(
            self.template,
            language=ctx.language,
            text=seed.text,
            term=focus.term,
            new_term=new_term,
            polarity=POLARITY_FR.get(focus.polarity, focus.polarity) if fr else focus.polarity,
            label=label,
            style=self.style(int(task.extra.get("variant", 0)), attempt, ctx.language),
            want_rationale=o.rationale,
            json_hint=json.dumps(hint, ensure_ascii=False),
            language_name=language_name(ctx.language),
            max_words=max_words(seed.text),
        )
        request = ChatRequest(
            messages=ctx.messages(rendered),
            temperature=o.temperature,
            top_p=o.top_p,
            max_tokens=min(1024, 40 + 3 * max_words(seed.text) + (60 if o.rationale else 0)),
            seed=stable_seed(task.seed, attempt),
            json_schema=text_schema(o.rationale),
        )
        return request, rendered

    async def candidates(self, ctx: StepContext, seed: Sample, focus: Aspect) -> list[str]:
        """The cleaned candidate list for one aspect of one seed (one cached request)."""
        n = self.options.candidates
        rendered = ctx.prompts.render(
            "ada_candidates.j2",
            language=ctx.language,
            text=seed.text,
            term=focus.term,
            category=focus.category,
            n=n,
            language_name=language_name(ctx.language),
        )
        schema = {
            "type": "object",
            "properties": {"category": {"type": "string"}, "terms": {"type": "array", "items": {"type": "string"}}},
            "required": ["category", "terms"],
        }
        request = ChatRequest(
            messages=ctx.messages(rendered),
            temperature=0.0,
            max_tokens=30 + 12 * n,
            seed=stable_seed("ada_candidates", seed.text, focus.term, n),
            json_schema=schema,
        )

        async def ask() -> list[str]:
            completion = await ctx.client.complete(request)
            return clean_candidates(parse_json_object(completion.text).get("terms"), focus.term, seed.text)

        result: list[str] = await self.memo.get(request.cache_key(ctx.client.backend.key), ask)
        return result

    async def replacement(
        self, ctx: StepContext, seed: Sample, focus: Aspect, variant: int, n_aspects: int, attempt: int
    ) -> str:
        per_seed = self.options.per_seed
        rank = variant // n_aspects
        sharing = len(range(variant % n_aspects, per_seed, n_aspects))
        index = rank + attempt * sharing
        terms = await self.candidates(ctx, seed, focus)
        if index >= len(terms):
            raise Rejection(
                "replacement",
                f"no unused replacement left for {focus.term!r}: {len(terms)} usable candidate(s) {terms}, "
                f"this variant/attempt needs #{index + 1}",
                seed.text,
            )
        return terms[index]
