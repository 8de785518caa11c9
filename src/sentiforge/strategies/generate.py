"""Label-conditioned generation from scratch.

Each slot gets a target label (round-robin over the scheme, so quotas are exact), a
combination of prompt attributes (round-robin too when ``balance_attributes`` is set, else
drawn with the slot's seed), a length, and 0-3 few-shot examples drawn from the real pool
with the slot's seed, so prompts rotate. The answer must be JSON matching a schema built
from the scheme; it is validated in code, whatever the backend promised.
"""

from __future__ import annotations

import difflib
import itertools
import json
from typing import Any, ClassVar, Literal

from pydantic import Field

from sentiforge.backends.base import ChatRequest
from sentiforge.errors import ConfigError, InvalidOutputError
from sentiforge.labels import LabelScheme
from sentiforge.prompts import Rendered, TrackedAttributes
from sentiforge.quality.voice import customer_written, voice_problem, without_sign_off
from sentiforge.samples import Sample
from sentiforge.strategies.base import StepContext, StrategyOptions, Task, guarded, register, rejected, stable_seed
from sentiforge.strategies.output import check_text, contains_term
from sentiforge.strategies.style import habit_instructions, length_instruction, length_problem

LENGTHS: dict[str, tuple[str, int]] = {
    # name: (instruction, max_tokens for the text itself)
    "short": ("short (one or two sentences, 10 to 30 words)", 80),
    "medium": ("medium-length (three to five sentences)", 200),
    "long": ("long (one paragraph, six to ten sentences)", 420),
}
LENGTHS_FR = {
    "short": "une ou deux phrases",
    "medium": "trois à cinq phrases",
    "long": "un paragraphe de six à dix phrases",
}
POLARITY_FR = {"positive": "positif", "negative": "négatif", "neutral": "neutre"}
DEFAULT_KIND_OF_TEXT = "customer message"
KIND_OF_TEXT = {"fr": "un message de client"}  # the default, in the prompt's language
Length = Literal["short", "medium", "long"]
LABEL_NOT_HELD = "label not held: the judge reads another label"


def _short() -> list[Length]:
    return ["short"]


# The attributes the packaged templates phrase themselves; any other name a user gives is
# rendered generically ("Topic: ...") by them, and reaches an edited template as it is.
ATTRIBUTES = ("domain", "product", "issue_type", "tone", "persona", "urgency", "intent")


class GenerateOptions(StrategyOptions):
    count: int = Field(default=30, ge=1)
    kind_of_text: str = DEFAULT_KIND_OF_TEXT
    attributes: dict[str, list[str]] = Field(default_factory=dict)
    lengths: list[Length] = Field(default_factory=_short)
    balance_attributes: bool = False
    labels: list[str] | None = None  # a subset of the scheme's labels to generate
    few_shot: int = Field(default=2, ge=0, le=3)
    temperature: float = Field(default=0.9, ge=0.0, le=2.0)
    top_p: float = Field(default=0.95, gt=0.0, le=1.0)
    rationale: bool = False
    aspect_categories: list[str] = Field(default_factory=list)
    aspect_terms: list[str] = Field(default_factory=list)
    reject_seed_copies: bool = True  # a text copying a few-shot example or a real seed is rejected
    # The judge must read the text as the asked label (single-label schemes). auto: on the
    # embedded model (local, no per-call cost), off on paid APIs unless asked.
    check_label: Literal["auto", "judge", "off"] = "auto"
    # Lengths drawn from the seeds' own and their surface habits asked for (strategies/style.py);
    # replaces ``lengths``. A text off its target length is rejected.
    match_style: bool = False
    # Words an earlier run over-used (the evaluation report's "top synthetic words rare in real"),
    # asked to be avoided.
    avoid_words: list[str] = Field(default_factory=list)


def output_schema(scheme: LabelScheme, *, rationale: bool, label: str | None = None) -> dict[str, Any]:
    props: dict[str, Any] = {"text": {"type": "string", "minLength": 10}}
    required = ["text"]
    if scheme.kind == "aspect":
        props["aspects"] = {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {
                    "term": {"type": "string"},
                    "polarity": {"type": "string", "enum": [label, *[x for x in scheme.labels if x != label]]},
                },
                "required": ["term", "polarity"],
            },
        }
        required.append("aspects")
    if rationale:
        props["rationale"] = {"type": "string"}
        required.append("rationale")
    return {"type": "object", "properties": props, "required": required}


def json_hint(scheme: LabelScheme, rationale: bool) -> str:
    hint: dict[str, Any] = {"text": "..."}
    if scheme.kind == "aspect":
        hint["aspects"] = [{"term": "...", "polarity": "|".join(scheme.labels)}]
    if rationale:
        hint["rationale"] = "..."
    return json.dumps(hint, ensure_ascii=False)


@register("generate")
class Generate:
    name: ClassVar[str] = "generate"
    refill: ClassVar[bool] = True
    Options = GenerateOptions

    def __init__(self, options: GenerateOptions) -> None:
        self.options = options
        bad = [name for name in options.attributes if not name.isidentifier() or name == "length"]
        if bad:
            raise ConfigError(f"prompt attribute names must be words like topic or issue_type (not 'length'): {bad}")
        self.customer_written = customer_written(options.kind_of_text)  # agent replies are not rejected as such
        self._combos = [
            dict(zip(options.attributes, values, strict=True))
            for values in itertools.product(*options.attributes.values())
        ]

    def size(self, ctx: StepContext) -> int:
        if self.options.match_style and not ctx.pool:
            raise ConfigError("match_style needs real seeds to measure (--seeds DATASET)")
        return self.options.count

    def targets(self, scheme: LabelScheme) -> list[str]:
        chosen = self.options.labels or scheme.labels
        labels = [scheme.normalize(x) for x in chosen]
        if scheme.kind == "multi":
            # one label and two labels alternate, so every prefix of the plan mixes both
            pairs = ["+".join(p) for p in itertools.combinations(labels, 2)][: len(labels)]
            return [t for pair in zip(labels, pairs, strict=False) for t in pair]
        return labels

    def task(self, index: int, ctx: StepContext) -> Task:
        targets = self.targets(ctx.scheme)
        seed = stable_seed(ctx.job_seed, ctx.step, index)
        rng = Task(ctx.step, index, seed, "").rng(-1)
        combos = self._combos or [{}]
        if self.options.balance_attributes:
            cell = index % (len(targets) * len(combos))
            target, combo = targets[cell % len(targets)], combos[cell // len(targets)]
        else:
            target, combo = targets[index % len(targets)], rng.choice(combos)
        attributes = dict(combo)
        attributes["length"] = self.options.lengths[index // len(targets) % len(self.options.lengths)]
        extra: dict[str, Any] = {}
        if self.options.match_style:
            extra["words"], extra["habits"] = ctx.style_profile().draw(Task(ctx.step, index, seed, "").rng(-2))
            attributes["length"] = "matched"
        if ctx.scheme.kind == "aspect":
            if self.options.aspect_categories:
                extra["aspect_category"] = rng.choice(self.options.aspect_categories)
            if self.options.aspect_terms:
                extra["aspect_term"] = rng.choice(self.options.aspect_terms)
        return Task(ctx.step, index, seed, target, attributes, extra=extra)

    def examples(self, task: Task, attempt: int, ctx: StepContext) -> list[dict[str, str]]:
        k = min(self.options.few_shot, len(ctx.pool))
        if k == 0:
            return []
        rng = task.rng(attempt + 1000)
        chosen = rng.sample(range(len(ctx.pool)), k)
        return [{"label": ctx.pool[i].target(), "text": ctx.pool[i].text} for i in chosen]

    def request(self, task: Task, attempt: int, ctx: StepContext) -> tuple[ChatRequest, Any]:
        o = self.options
        rendered = self._render(task, attempt, ctx, set())
        words = task.extra.get("words")
        budget = words * 3 + 20 if words else LENGTHS[task.attributes.get("length", "short")][1]
        max_tokens = budget + 24 + (60 if o.rationale else 0) + (40 if ctx.scheme.kind == "aspect" else 0)
        label = task.target
        request = ChatRequest(
            messages=ctx.messages(rendered),
            temperature=o.temperature,
            top_p=o.top_p,
            max_tokens=max_tokens,
            seed=stable_seed(task.seed, attempt),
            json_schema=output_schema(
                ctx.scheme, rationale=o.rationale, label=label if ctx.scheme.kind == "aspect" else None
            ),
        )
        return request, rendered

    def _render(self, task: Task, attempt: int, ctx: StepContext, used: set[str]) -> Rendered:
        """The user prompt of a slot; the attribute names the template reads go into ``used``."""
        o = self.options
        scheme = ctx.scheme
        instruction = self._length_words(task, ctx.language)
        label = task.target
        description = scheme.describe(label, ctx.language) if scheme.kind == "single" else label
        if ctx.language == "fr":  # a scheme without a French description: its label words
            description = POLARITY_FR.get(description, description)
        given = {k: v for k, v in task.attributes.items() if k != "length"}
        return ctx.prompts.render(
            "generate.j2",
            language=ctx.language,
            scheme=scheme,
            label=POLARITY_FR.get(label, label) if ctx.language == "fr" else label,
            labels=label.split("+"),
            label_description=description,
            attributes=TrackedAttributes({k: None for k in ATTRIBUTES} | given, used),
            extra_attributes=TrackedAttributes({k: v for k, v in given.items() if k not in ATTRIBUTES}, used),
            length_words=instruction,
            kind_of_text=KIND_OF_TEXT.get(ctx.language, o.kind_of_text)
            if o.kind_of_text == DEFAULT_KIND_OF_TEXT
            else o.kind_of_text,
            examples=self.examples(task, attempt, ctx),
            want_rationale=o.rationale,
            json_hint=json_hint(scheme, o.rationale),
            aspect_category=task.extra.get("aspect_category"),
            aspect_term=task.extra.get("aspect_term"),
            style=habit_instructions(task.extra.get("habits", []), ctx.language),
            avoid_words=o.avoid_words,
        )

    @staticmethod
    def _length_words(task: Task, language: str) -> str:
        if "words" in task.extra:
            return length_instruction(task.extra["words"], language)
        length = task.attributes.get("length", "short")
        return LENGTHS_FR[length] if language == "fr" else LENGTHS[length][0]

    def attribute_warnings(self, ctx: StepContext) -> list[str]:
        """What to tell the user about attributes the template never reads, or whose name looks
        like a misspelt built-in one ("domian" for "domain")."""
        if not self.options.attributes:
            return []
        used: set[str] = set()
        rendered = self._render(self.task(0, ctx), 0, ctx, used)
        where = ctx.prompts.origin(rendered.template)
        found = []
        for name in self.options.attributes:
            close = [] if name in ATTRIBUTES else difflib.get_close_matches(name, ATTRIBUTES, n=1, cutoff=0.75)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            if name not in used:
                found.append(
                    f"prompt attribute '{name}' is not used by the template {where}{hint}: "
                    "it is stored with each sample, but the model never sees it"
                )
            elif close:
                found.append(f"prompt attribute '{name}' is not a built-in one{hint}; it is passed on as '{name}'")
        return found

    def copied(self, text: str, task: Task, attempt: int, ctx: StepContext) -> str | None:
        """Why ``text`` is a copy (of an example in its prompt, or of any real seed), or None."""
        if not self.options.reject_seed_copies or not ctx.pool:
            return None
        from sentiforge.quality.copies import REASON_EXAMPLE, REASON_SEED, copy_of_examples

        if copy_of_examples(text, [e["text"] for e in self.examples(task, attempt, ctx)]):
            return REASON_EXAMPLE
        return REASON_SEED if ctx.seed_copies().find([text])[0] else None

    @staticmethod
    def length_problem(text: str, task: Task) -> str | None:
        words = task.extra.get("words")
        return length_problem(text, words) if words else None

    def judges_labels(self, ctx: StepContext) -> bool:
        """Is the judge asked about each text's label? (single-label schemes only)"""
        wanted = self.options.check_label
        embedded = ctx.client is not None and ctx.client.backend.name == "embedded"
        return ctx.scheme.kind == "single" and (wanted == "judge" or (wanted == "auto" and embedded))

    async def label_problem(self, text: str, task: Task, ctx: StepContext) -> str | None:
        """Why the label does not hold (the judge reads another one), or None."""
        if not self.judges_labels(ctx):
            return None
        judged = await (await ctx.label_judge()).ajudge(text)
        if judged is None or judged == task.target:
            return None  # an abstaining judge does not reject
        return f"{LABEL_NOT_HELD} (judge: {judged})"

    async def run(self, task: Task, attempt: int, ctx: StepContext) -> Sample:
        return await guarded(self._run(task, attempt, ctx), task, ctx, self.name)

    async def _run(self, task: Task, attempt: int, ctx: StepContext) -> Sample:
        request, rendered = self.request(task, attempt, ctx)
        data, completion = await ctx.ask_json(request)
        params: dict[str, Any] = {
            "temperature": request.temperature,
            "seed": request.seed,
            "attempt": attempt,
            "max_tokens": request.max_tokens,
            **{k: task.extra[k] for k in ("words", "habits") if k in task.extra},
        }
        provenance = ctx.provenance(self.name, completion, rendered, **params)
        text_raw = data.get("text", "")
        try:
            text = check_text(without_sign_off(text_raw) if isinstance(text_raw, str) else text_raw)
        except InvalidOutputError as exc:
            return rejected(task, str(exc), str(text_raw), provenance, attributes=task.attributes)
        problem = self.copied(text, task, attempt, ctx) or self.length_problem(text, task)
        problem = problem or voice_problem(text, customer=self.customer_written)
        problem = problem or await self.label_problem(text, task, ctx)
        if problem:
            return rejected(task, problem, text, provenance, attributes=task.attributes)
        fields: dict[str, Any] = {
            "text": text,
            "language": ctx.language,
            "attributes": task.attributes,
            "provenance": provenance,
        }
        if self.options.rationale:
            rationale = data.get("rationale")
            if not isinstance(rationale, str) or not rationale.strip():
                return rejected(task, "rationale missing", text, provenance, attributes=task.attributes)
            fields["rationale"] = rationale.strip()
        scheme = ctx.scheme
        if scheme.kind == "single":
            fields["label"] = task.target
        elif scheme.kind == "multi":
            fields["labels"] = task.target.split("+")
        else:
            problem, aspects = check_aspects(data.get("aspects"), task, scheme, text)
            if problem:
                return rejected(task, problem, text, provenance, attributes=task.attributes)
            fields["aspects"] = aspects
        return Sample(**fields)


def check_aspects(raw: Any, task: Task, scheme: LabelScheme, text: str) -> tuple[str | None, list[Any]]:
    """Aspects that occur verbatim in the text, with the requested polarity among them."""
    try:
        aspects = scheme.normalize_aspects(raw)
    except (ValueError, TypeError) as exc:
        return f"aspects malformed: {exc}", []
    missing = [a.term for a in aspects if not contains_term(text, a.term)]
    if missing:
        return f"aspect term(s) {missing} do not occur in the text", []
    wanted = task.extra.get("aspect_term")
    if wanted and not any(a.term.lower() == wanted.lower() for a in aspects):
        return f"requested aspect term {wanted!r} missing from the answer", []
    if not any(a.polarity == task.target for a in aspects):
        return f"no aspect has the requested polarity {task.target!r}", []
    category = task.extra.get("aspect_category")
    return None, [a.model_copy(update={"category": a.category or category}) for a in aspects]
