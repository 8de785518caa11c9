"""What the API takes and answers besides the store's public schemas (``store/schemas.py``)
and the application layer's requests (``app/requests.py``)."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from fastapi import Path, Query
from pydantic import BaseModel, Field, model_validator

from sentiforge.app.predict import Prediction
from sentiforge.names import NAME_PATTERN, NO_NUL, CallerInput, Name

T = TypeVar("T")
MAX_ID = 2**31 - 1  # ids are Integer primary keys: int4 on PostgreSQL
JobId = Annotated[int, Path(ge=1, le=MAX_ID, description="A job's id")]
Cursor = Annotated[int, Query(ge=0, le=MAX_ID, description="The last id of the page before (next_cursor)")]
# a free-text filter of a query string (a label, a strategy, part of a reason)
FilterText = Annotated[str | None, Query(pattern=NO_NUL, max_length=200)]
NamePath = Annotated[str, Path(pattern=NAME_PATTERN, description="A name: 1-100 of A-Z a-z 0-9 . _ -")]
MAX_TEXT_CHARS = 20_000


class Page(BaseModel, Generic[T]):
    """One page of a listing; pass ``next_cursor`` as ``cursor`` for the next (null: the last page)."""

    items: list[T]
    next_cursor: int | None = None

    @classmethod
    def of(cls, found: list[Any], limit: int) -> Page[Any]:
        """A page from ``limit + 1`` rows fetched (the extra one says whether more follow)."""
        more = len(found) > limit
        return cls(items=found[:limit], next_cursor=getattr(found[limit - 1], "id", None) if more else None)


class ErrorOut(BaseModel):
    detail: str
    error: str


class JobProgress(BaseModel):
    """A job's progress as numbers (what the event stream sends as ``progress``)."""

    id: int
    kind: str
    status: str
    done: int
    target: int
    rejected: int
    percent: float
    cost: float
    requests: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error: str | None = None


class SentimentIn(CallerInput):
    """One text (``text``) or a batch (``texts``), and optionally the model to use."""

    text: str | None = Field(default=None, min_length=1, max_length=MAX_TEXT_CHARS)
    texts: list[str] | None = Field(default=None, min_length=1)
    model: str | None = None

    @model_validator(mode="after")
    def _one_of(self) -> SentimentIn:
        if (self.text is None) == (self.texts is None):
            raise ValueError("give either 'text' (one string) or 'texts' (a list of strings)")
        if self.texts is not None and any(len(t) > MAX_TEXT_CHARS or not t.strip() for t in self.texts):
            raise ValueError(f"every text must be 1 to {MAX_TEXT_CHARS} characters, not blank")
        return self


class SentimentOut(BaseModel):
    """For ``text``: ``label``, ``scores`` and ``rationale`` (from a model that writes one);
    for ``texts``: ``predictions`` in the same order."""

    model: str
    label: str | list[str] | None = None
    scores: dict[str, float] | None = None
    rationale: str | None = None
    predictions: list[Prediction] | None = None


class KeyCreate(CallerInput):
    name: Name
    scopes: list[str] = Field(min_length=1, max_length=5)


class KeyCreated(BaseModel):
    key: Any
    token: str = Field(description="The key's token: shown this once, only its hash is stored")
