"""The sample: text, its label(s), and where it came from."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sentiforge.labels import Aspect, LabelScheme

_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)
_SPACE = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """Case, whitespace, punctuation and Unicode form folded: the key for exact duplicates."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = _PUNCT.sub(" ", folded)
    return _SPACE.sub(" ", folded).strip()


def text_hash(text: str) -> str:
    return hashlib.blake2b(normalize_text(text).encode("utf-8"), digest_size=16).hexdigest()


class Provenance(BaseModel):
    """How a synthetic sample was made (empty for real data)."""

    strategy: str | None = None
    backend: str | None = None
    model: str | None = None
    template: str | None = None
    template_hash: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    parent_id: int | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0


class Sample(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int | None = None
    text: str
    label: str | None = None
    labels: list[str] | None = None
    aspects: list[Aspect] | None = None
    language: str = "en"
    rationale: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    split: str | None = None
    status: Literal["accepted", "rejected"] = "accepted"
    reason: str | None = None
    provenance: Provenance = Field(default_factory=Provenance)

    def target(self) -> str:
        """The label a quota counts: the label, the joined label set, or the first aspect's polarity."""
        if self.label is not None:
            return self.label
        if self.labels:
            return "+".join(self.labels)
        if self.aspects:
            return self.aspects[0].polarity
        return ""

    def checked(self, scheme: LabelScheme) -> Sample:
        """A copy with label fields validated and normalised against the scheme (LabelError if not)."""
        from sentiforge.errors import LabelError

        if not self.text or not self.text.strip():
            raise LabelError("sample has an empty text")
        if scheme.kind == "single":
            if self.label is None:
                raise LabelError(f"sample has no label for single-label scheme '{scheme.name}'")
            return self.model_copy(update={"label": scheme.normalize(self.label)})
        if scheme.kind == "multi":
            return self.model_copy(update={"labels": scheme.normalize_set(self.labels or self.label or [])})
        return self.model_copy(update={"aspects": scheme.normalize_aspects(self.aspects)})
