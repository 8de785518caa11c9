"""Label schemes as data.

A scheme says which labels exist, whether they are ordered, and what shape a sample's
label takes: one label (``single``), a set of labels (``multi``) or aspect terms each with
a polarity (``aspect``). Every built-in scheme is an instance of the same class, and a user
scheme loads from YAML/JSON with the same fields, so no code path depends on a scheme's name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sentiforge.errors import LabelError

Kind = Literal["single", "multi", "aspect"]


class Aspect(BaseModel):
    model_config = ConfigDict(extra="forbid")

    term: str = Field(min_length=1)
    polarity: str
    category: str | None = None


class LabelScheme(BaseModel):
    """A label scheme. ``labels`` are in order from most negative to most positive when
    ``ordinal`` is true; ``descriptions`` go into prompts (the generator's and the judge's
    alike, so both read a label the same way), ``translations`` are the descriptions in other
    languages (``{"fr": {"neutral": "neutre (...)"}}``); ``aliases`` map other spellings (as
    found in users' files) onto labels."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    kind: Kind = "single"
    labels: tuple[str, ...]
    ordinal: bool = False
    descriptions: dict[str, str] = Field(default_factory=dict)
    translations: dict[str, dict[str, str]] = Field(default_factory=dict)
    aliases: dict[str, str] = Field(default_factory=dict)
    max_labels: int = 3  # multi: most labels one sample may carry
    # why a reviewer rejects or relabels a sample of this scheme (empty: the review defaults,
    # ``quality.review_queue.DEFAULT_REASONS``)
    review_reasons: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> LabelScheme:
        if len(self.labels) < 2:
            raise LabelError(f"scheme '{self.name}' needs at least two labels")
        if len(set(self.labels)) != len(self.labels):
            raise LabelError(f"scheme '{self.name}' repeats a label: {list(self.labels)}")
        described = [lab for table in [self.descriptions, *self.translations.values()] for lab in table]
        unknown = sorted(set(described) - set(self.labels))
        if unknown:
            raise LabelError(
                f"scheme '{self.name}' describes unknown labels {unknown}; its labels are {list(self.labels)}"
            )
        if any(not r.strip() or len(r) > 60 for r in self.review_reasons) or len(set(self.review_reasons)) != len(
            self.review_reasons
        ):
            raise LabelError(f"scheme '{self.name}': review reasons must be distinct, 1 to 60 characters each")
        for alias, target in self.aliases.items():
            if target not in self.labels:
                raise LabelError(f"alias '{alias}' of scheme '{self.name}' points at unknown label '{target}'")
        return self

    # -- single labels --------------------------------------------------------------
    def normalize(self, value: object) -> str:
        """Map a raw label (any case, an alias, an int index for ordinal schemes) onto a label."""
        raw = str(value).strip()
        if raw in self.labels:
            return raw
        lowered = {label.lower(): label for label in self.labels}
        key = raw.lower().replace("_", " ")
        if key in lowered:
            return lowered[key]
        aliases = {alias.lower(): target for alias, target in self.aliases.items()}
        if key in aliases:
            return aliases[key]
        raise LabelError(
            f"unknown label {raw!r} for scheme '{self.name}'; expected one of {list(self.labels)}"
            + (f" or an alias {sorted(self.aliases)}" if self.aliases else "")
        )

    def index(self, label: str) -> int:
        return self.labels.index(self.normalize(label))

    # -- multi labels ---------------------------------------------------------------
    def normalize_set(self, values: object) -> list[str]:
        if isinstance(values, str):
            values = [v for v in values.replace(";", ",").split(",") if v.strip()]
        if not isinstance(values, list | tuple | set) or not values:
            raise LabelError(f"scheme '{self.name}' expects a non-empty list of labels, got {values!r}")
        out = sorted({self.normalize(v) for v in values}, key=self.labels.index)
        if len(out) > self.max_labels:
            raise LabelError(f"scheme '{self.name}' allows at most {self.max_labels} labels, got {out}")
        return out

    # -- aspects --------------------------------------------------------------------
    def normalize_aspects(self, values: object) -> list[Aspect]:
        if not isinstance(values, list) or not values:
            raise LabelError(f"scheme '{self.name}' expects a non-empty list of aspects, got {values!r}")
        out = []
        for item in values:
            aspect = item if isinstance(item, Aspect) else Aspect.model_validate(item)
            out.append(aspect.model_copy(update={"polarity": self.normalize(aspect.polarity)}))
        return out

    def describe(self, label: str, language: str | None = None) -> str:
        """What ``label`` means, for prompts: in ``language`` when the scheme has a translation,
        else the (English) description, else the label itself."""
        translated = self.translations.get(language or "", {})
        return translated.get(label) or self.descriptions.get(label, label)

    @classmethod
    def load(cls, path: str | Path) -> LabelScheme:
        import json

        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise LabelError(f"cannot read label scheme file {p}: {exc}") from exc
        if p.suffix in {".yaml", ".yml"}:
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
        try:
            return cls.model_validate(data)
        except ValueError as exc:
            raise LabelError(f"invalid label scheme in {p}: {exc}") from exc


_POLARITY = ("negative", "neutral", "positive")
# Shared by the generator's prompt and the judge's: a 1.5B model asked for a bare "neutral"
# text writes a mild opinion, which the judge then reads as polar (issue #12).
_POLARITY_DESCRIPTIONS = {
    "negative": "negative (the writer is unhappy, angry, disappointed or critical)",
    "neutral": "neutral (no feeling either way: a plain fact, news, a plan or a question, "
    "with no praise and no complaint)",
    "positive": "positive (the writer is happy, pleased, grateful or enthusiastic)",
}
_POLARITY_FR = {
    "negative": "négatif (l'auteur est mécontent, en colère, déçu ou critique)",
    "neutral": "neutre (aucun sentiment : un simple fait, une information, un projet ou une question, "
    "sans éloge ni plainte)",
    "positive": "positif (l'auteur est content, satisfait, reconnaissant ou enthousiaste)",
}
_POLARITY_ALIASES = {
    "neg": "negative",
    "neu": "neutral",
    "pos": "positive",
    "-1": "negative",
    "0": "neutral",
    "1": "positive",
}

BUILTIN: dict[str, LabelScheme] = {
    s.name: s
    for s in [
        LabelScheme(
            name="binary",
            labels=("negative", "positive"),
            ordinal=True,
            aliases={"0": "negative", "1": "positive", "neg": "negative", "pos": "positive"},
        ),
        LabelScheme(
            name="three_class",
            labels=_POLARITY,
            ordinal=True,
            descriptions=_POLARITY_DESCRIPTIONS,
            translations={"fr": _POLARITY_FR},
            aliases=_POLARITY_ALIASES,
        ),
        LabelScheme(
            name="five_level",
            labels=("1", "2", "3", "4", "5"),
            ordinal=True,
            descriptions={
                "1": "very negative (1 of 5)",
                "2": "negative (2 of 5)",
                "3": "neutral or mixed (3 of 5)",
                "4": "positive (4 of 5)",
                "5": "very positive (5 of 5)",
            },
            aliases={"very negative": "1", "negative": "2", "neutral": "3", "positive": "4", "very positive": "5"},
        ),
        LabelScheme(
            name="seven_level",
            labels=(
                "very negative",
                "negative",
                "somewhat negative",
                "neutral",
                "somewhat positive",
                "positive",
                "very positive",
            ),
            ordinal=True,
        ),
        LabelScheme(
            name="emotions",
            kind="multi",
            labels=("joy", "trust", "surprise", "anger", "sadness", "fear", "disgust"),
        ),
        LabelScheme(name="aspect", kind="aspect", labels=_POLARITY, ordinal=True, aliases=_POLARITY_ALIASES),
    ]
}
BUILTIN["3class"] = BUILTIN["three_class"]
BUILTIN["5level"] = BUILTIN["five_level"]
BUILTIN["7level"] = BUILTIN["seven_level"]
BUILTIN["multi_label"] = BUILTIN["emotions"]


def get_scheme(name_or_path: str | LabelScheme) -> LabelScheme:
    """A built-in scheme by name, or a user scheme from a YAML/JSON file."""
    if isinstance(name_or_path, LabelScheme):
        return name_or_path
    if name_or_path in BUILTIN:
        return BUILTIN[name_or_path]
    if Path(name_or_path).suffix in {".yaml", ".yml", ".json"}:
        return LabelScheme.load(name_or_path)
    raise LabelError(
        f"unknown label scheme {name_or_path!r}; "
        f"use one of {sorted(set(BUILTIN))} or a path to a .yaml/.json scheme file"
    )
