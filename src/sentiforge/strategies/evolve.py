"""Evolution: rewrite accepted samples into harder or different ones.

Each evolution is an instruction plus what it does to the label: ``keep`` (sarcasm that still
means what the seed meant, mixed feelings with the same overall verdict, implicit sentiment,
typos and abbreviations, shorter, hashtags or mentions) or ``flip`` (negation that turns the
meaning around: positive <-> negative; a neutral seed is not flipped). Variant ``v`` of seed
``i`` takes evolution ``(i + v) mod n``, so evolutions spread evenly over the seeds. The output
carries its evolution and the seed as parent; it must differ from the seed, and with
``check_polarity: judge`` the judge must read it as its new label, like any other sample the
gate sees.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from sentiforge.backends.base import ChatRequest
from sentiforge.samples import Sample, normalize_text
from sentiforge.strategies.base import StepContext, Task, register, stable_seed
from sentiforge.strategies.output import check_text
from sentiforge.strategies.seeded import (
    CheckMode,
    Memo,
    Rejection,
    SeedOptions,
    SeedStrategy,
    check_seed,
    judge,
    language_name,
    text_schema,
)

# name: (instruction, what happens to the label)
EVOLUTIONS: dict[str, tuple[str, Literal["keep", "flip"]]] = {
    "mixed": ("Add one small remark with the opposite feeling, keeping the overall sentiment the same.", "keep"),
    "sarcasm": ("Rewrite it with sarcasm or irony, so that its real meaning stays exactly the same.", "keep"),
    "negation": ("Rewrite it so it means the opposite, mainly by negating what it says (not, never, no).", "flip"),
    "implicit": ("Rewrite it so the sentiment is implied by facts or events, without any sentiment word.", "keep"),
    "typos": ("Rewrite it as a hurried person would type it: a few typos and abbreviations (u, pls, lol).", "keep"),
    "shorter": ("Rewrite it in at most half as many words, keeping the sentiment.", "keep"),
    "social": ("Rewrite it as a tweet with an @mention and a #hashtag, keeping the sentiment.", "keep"),
}
FLIPPED = {"positive": "negative", "negative": "positive"}


class EvolveOptions(SeedOptions):
    per_seed: int = Field(default=1, ge=1, le=20)
    evolutions: list[str] = Field(
        default_factory=lambda: ["mixed", "sarcasm", "negation", "implicit", "typos", "shorter"]
    )
    check_polarity: CheckMode = "judge"


@register("evolve")
class Evolve(SeedStrategy):
    name: ClassVar[str] = "evolve"
    Options = EvolveOptions
    options: EvolveOptions

    def __init__(self, options: EvolveOptions) -> None:
        from sentiforge.errors import ConfigError

        unknown = [e for e in options.evolutions if e not in EVOLUTIONS]
        if unknown or not options.evolutions:
            raise ConfigError(f"unknown evolutions {unknown}; choose from {list(EVOLUTIONS)}")
        self.options = options
        self.memo = Memo()

    def evolution(self, task: Task) -> str:
        evolutions = self.options.evolutions
        return evolutions[(task.extra["seed_index"] + task.extra["variant"]) % len(evolutions)]

    async def _run(self, task: Task, attempt: int, ctx: StepContext, state: dict[str, Any]) -> Sample:
        seed = check_seed(task.parent, ctx)
        name = self.evolution(task)
        instruction, effect = EVOLUTIONS[name]
        label = str(seed.label)
        if effect == "flip":
            if ctx.scheme.kind != "single" or label not in FLIPPED or FLIPPED[label] not in ctx.scheme.labels:
                raise Rejection("evolution", f"'{name}' flips positive <-> negative; the seed is {label!r}", seed.text)
            label = FLIPPED[label]
        rendered = ctx.prompts.render(
            "evolve.j2", language=ctx.language, text=seed.text, instruction=instruction,
            language_name=language_name(ctx.language), want_rationale=False,
        )  # fmt: skip
        request = ChatRequest(
            messages=ctx.messages(rendered),
            temperature=self.options.temperature,
            top_p=self.options.top_p,
            max_tokens=200,
            seed=stable_seed(task.seed, attempt),
            json_schema=text_schema(False),
        )
        state["stage"] = "format"
        data, completion = await ctx.ask_json(request)
        state["provenance"] = self.provenance(task, ctx, completion, rendered, request, attempt)
        text = check_text(data.get("text"))
        if normalize_text(text) == normalize_text(seed.text):
            raise Rejection("identical", "the rewrite is the seed itself", text)
        if self.options.check_polarity == "judge" and ctx.scheme.kind == "single":
            state["stage"] = "polarity"
            read = await judge(ctx, self.memo, text, None)
            if read != label:
                raise Rejection("polarity", f"'{name}' should read as {label!r}; the judge reads {read!r}", text)
        provenance = state["provenance"]
        provenance = provenance.model_copy(update={"params": {**provenance.params, "evolution": name}})
        attributes = {**seed.attributes, "evolution": name, "label_change": effect}
        return Sample(text=text, label=label, language=seed.language, attributes=attributes, provenance=provenance)
