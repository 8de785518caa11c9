"""Aspect extraction, for seeds that carry no aspect annotation.

The LLM proposes aspect terms with a polarity and a category; a term is kept only if it
occurs verbatim in the text (a model that paraphrases "the staff" into "staff members"
has proposed something that is not there). When no proposed term survives, the seed is
rejected with the proposals and why each failed. The request is deterministic (temperature
0, seed from the text), so the answer is cached and every variant, step and job that needs
the same seed's aspects asks once.

Sentence-level data keeps its sentence label: aspects only steer CDA/ADA/CADA.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from pydantic import Field

from sentiforge.backends.base import ChatRequest
from sentiforge.errors import InvalidOutputError
from sentiforge.labels import Aspect
from sentiforge.samples import Sample
from sentiforge.strategies.base import StepContext, Task, register, stable_seed
from sentiforge.strategies.output import contains_term, parse_json_object
from sentiforge.strategies.seeded import (
    Memo,
    Rejection,
    SeedOptions,
    SeedStrategy,
    check_seed,
    language_name,
    polarity_labels,
)

MAX_TERM_WORDS = 5
# A term made only of these points at something without naming it ("that", "it", "this one"):
# small models propose them, and a rewrite or a replacement of "that" teaches nothing about
# an aspect (seen in benchmarks/augment: "You can't beat that." -> CADA replaced "that" by "it").
_FUNCTION_WORDS_EN = (
    "a an the this that these those it its they them their he him his she her we us our you your i me my "
    "one ones some any all both each every there here what which who whom something anything everything "
    "nothing someone anyone everyone nobody thing things stuff lot much many more most other another"
)
_FUNCTION_WORDS_FR = (
    "ce cet cette ces cela ça ceci il ils elle elles on nous vous je tu lui leur leurs le la les l un une "
    "des du de quelque chose tout tous toute toutes rien y en"
)
FUNCTION_WORDS = frozenset(f"{_FUNCTION_WORDS_EN} {_FUNCTION_WORDS_FR}".split(" "))


def extraction_request(ctx: StepContext, text: str, max_aspects: int) -> tuple[ChatRequest, Any]:
    polarities = polarity_labels(ctx.scheme)
    rendered = ctx.prompts.render(
        "extract_aspects.j2",
        language=ctx.language,
        text=text,
        polarities=polarities,
        max_aspects=max_aspects,
        language_name=language_name(ctx.language),
    )
    schema = {
        "type": "object",
        "properties": {
            "aspects": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "properties": {
                        "term": {"type": "string"},
                        "category": {"type": "string"},
                        "polarity": {"type": "string", "enum": list(polarities)},
                    },
                    "required": ["term", "category", "polarity"],
                },
            }
        },
        "required": ["aspects"],
    }
    request = ChatRequest(
        messages=ctx.messages(rendered),
        temperature=0.0,
        max_tokens=40 + 40 * max_aspects,
        seed=stable_seed("extract_aspects", text),
        json_schema=schema,
    )
    return request, rendered


def validate_proposals(raw: Any, text: str, polarities: tuple[str, ...], max_aspects: int) -> list[Aspect]:
    """Proposals that occur verbatim in the text; a Rejection listing what failed if none do."""
    if not isinstance(raw, list) or not raw:
        raise Rejection("extraction", f"the model proposed no aspect list: {raw!r}", text)
    kept: list[Aspect] = []
    problems: list[str] = []
    for item in raw:
        term = str(item.get("term", "")).strip() if isinstance(item, dict) else ""
        polarity = str(item.get("polarity", "")).strip().lower() if isinstance(item, dict) else ""
        category = str(item.get("category", "")).strip() if isinstance(item, dict) else ""
        if not term:
            problems.append(f"{item!r}: no term")
        elif len(term.split()) > MAX_TERM_WORDS:
            problems.append(f"{term!r}: longer than {MAX_TERM_WORDS} words")
        elif not contains_term(text, term):
            problems.append(f"{term!r}: not in the text verbatim")
        elif all(w.strip(".,;:!?'\"").casefold() in FUNCTION_WORDS for w in term.replace("'", " ").split()):
            problems.append(f"{term!r}: a pronoun or function word, not an aspect")
        elif polarity not in polarities:
            problems.append(f"{term!r}: polarity {polarity!r} not one of {list(polarities)}")
        elif any(a.term.casefold() == term.casefold() for a in kept):
            continue
        else:
            kept.append(Aspect(term=term, polarity=polarity, category=category or None))
    if not kept:
        raise Rejection("extraction", "no proposed aspect term is usable: " + "; ".join(problems), text)
    return kept[:max_aspects]


async def extract_aspects(ctx: StepContext, memo: Memo, text: str, max_aspects: int = 3) -> list[Aspect]:
    """The aspects of a text, checked against it (Rejection / InvalidOutputError otherwise)."""
    request, _ = extraction_request(ctx, text, max_aspects)

    async def ask() -> list[Aspect]:
        completion = await ctx.client.complete(request)
        data = parse_json_object(completion.text)
        return validate_proposals(data.get("aspects"), text, polarity_labels(ctx.scheme), max_aspects)

    result: list[Aspect] = await memo.get(request.cache_key(ctx.client.backend.key), ask)
    return result


async def seed_aspects(ctx: StepContext, memo: Memo, seed: Sample, *, extract: bool, max_aspects: int) -> list[Aspect]:
    """The seed's own aspects, else extracted ones (when allowed)."""
    if seed.aspects:
        return list(seed.aspects)
    if not extract:
        raise Rejection("seed", f"seed {seed.id} has no aspects and extraction is off", seed.text)
    try:
        return await extract_aspects(ctx, memo, seed.text, max_aspects)
    except InvalidOutputError as exc:
        raise Rejection("extraction", f"invalid output: {exc}", exc.raw or seed.text) from exc


class ExtractOptions(SeedOptions):
    per_seed: int = Field(default=1, ge=1, le=1)
    max_aspects: int = Field(default=3, ge=1, le=10)


@register("extract_aspects")
class ExtractAspects(SeedStrategy):
    """An annotated copy of each seed: same text, same label, plus checked aspects.

    The copy keeps the seed's split, so the annotated dataset can be the ``seeds`` of a
    later CDA/ADA/CADA recipe; their outputs point through it to the real sentence.
    """

    name: ClassVar[str] = "extract_aspects"
    Options = ExtractOptions
    options: ExtractOptions

    def __init__(self, options: ExtractOptions) -> None:
        self.options = options
        self.memo = Memo()

    async def _run(self, task: Task, attempt: int, ctx: StepContext, state: dict[str, Any]) -> Sample:
        seed = check_seed(task.parent, ctx)
        state["stage"] = "extraction"
        request, rendered = extraction_request(ctx, seed.text, self.options.max_aspects)
        completion = await ctx.client.complete(request)
        state["provenance"] = self.provenance(task, ctx, completion, rendered, request, attempt)
        data = parse_json_object(completion.text)
        polarities = polarity_labels(ctx.scheme)
        aspects = validate_proposals(data.get("aspects"), seed.text, polarities, self.options.max_aspects)
        provenance = state["provenance"].model_copy(update={"parent_id": seed.id})
        return Sample(
            text=seed.text,
            label=seed.label,
            labels=seed.labels,
            aspects=aspects,
            language=seed.language,
            split=seed.split,
            attributes={**seed.attributes, "proposed": json.dumps(data.get("aspects"), ensure_ascii=False)[:500]},
            provenance=provenance,
        )
