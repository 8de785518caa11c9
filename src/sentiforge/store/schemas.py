"""What the store hands out and takes in: pydantic schemas, never ORM rows.

A ``...Public`` model is what a caller (the CLI, the API, a report) sees of a table row; it is
detached from any session and serialises to JSON as is. A ``...Create`` model is what a caller
passes in to write one. ``models.py`` (the tables) stays private to the store package.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema, field_validator

from sentiforge.counters import Counters
from sentiforge.labels import LabelScheme
from sentiforge.names import NO_NUL
from sentiforge.samples import Sample

_ROW = ConfigDict(from_attributes=True, frozen=True)


def _utc_iso(value: datetime) -> str:
    """The store keeps naive UTC times; JSON says so (RFC 3339 ``date-time`` needs an offset)."""
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return aware.isoformat().replace("+00:00", "Z")


Timestamp = Annotated[
    datetime,
    PlainSerializer(_utc_iso, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization"),
]


class DatasetPublic(BaseModel):
    """A dataset. ``counts`` (samples per status) is filled by ``list_datasets(counts=True)``."""

    model_config = _ROW

    id: int
    name: str
    kind: str  # real | synthetic
    scheme: LabelScheme
    meta: dict[str, Any] = Field(default_factory=dict)
    created_at: Timestamp
    counts: dict[str, int] | None = None


class SamplePublic(Sample):
    """A stored sample with where it lives: its dataset, the job that made it, when."""

    dataset_id: int
    job_id: int | None = None
    created_at: Timestamp
    quality_score: float | None = None  # from the dataset's latest quality run (find_samples)
    review: str | None = None  # its review item's status, if it was queued (find_samples)


class SampleFilter(BaseModel):
    """Which samples of a dataset to list: the one spelling of the sample filter, shared by the
    store (``find_samples``), the application (``browse_samples``) and the API's query string."""

    status: Literal["accepted", "rejected", "any"] = "accepted"
    label: str | None = Field(default=None, pattern=NO_NUL, max_length=200)
    strategy: str | None = Field(default=None, pattern=NO_NUL, max_length=200)
    split: str | None = Field(default=None, pattern=NO_NUL, max_length=200)
    min_score: float | None = Field(default=None, ge=0, le=1)  # the latest quality run's score
    max_score: float | None = Field(default=None, ge=0, le=1)
    review: Literal["pending", "approved", "rejected", "relabelled", "edited"] | None = None  # review state
    text: str | None = Field(default=None, pattern=NO_NUL, max_length=200)  # the text holds this (any case)

    @field_validator("label", "strategy", "split", "text", "review", "min_score", "max_score", mode="before")
    @classmethod
    def _empty_is_no_filter(cls, value: Any) -> Any:
        """An empty field (a form's blank input) filters nothing, as for jobs."""
        return None if value == "" else value


# -- jobs -----------------------------------------------------------------------------------
class JobPublic(Counters):
    """A job as callers see it: its recipe, status, progress, spend (its counters) and who runs it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    dataset_id: int | None
    kind: str = "recipe"
    recipe: dict[str, Any]
    request: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    status: str
    target: int
    error: str | None = None
    claimed_by: str | None = None
    heartbeat_at: Timestamp | None = None
    cancel_requested: bool = False
    created_at: Timestamp
    updated_at: Timestamp


class JobEventPublic(BaseModel):
    """One thing that happened to a job (created, started, cancel_requested, finished, reclaimed)."""

    model_config = _ROW

    id: int
    job_id: int
    kind: str
    data: dict[str, Any] = Field(default_factory=dict)
    created_at: Timestamp


# -- API keys -------------------------------------------------------------------------------
class ApiKeyPublic(BaseModel):
    """An API key as listed: never its secret, which only ``create_key`` returns, once."""

    model_config = _ROW

    id: int
    key_id: str
    name: str
    scopes: list[str]
    created_at: Timestamp
    revoked_at: Timestamp | None = None


# -- quality --------------------------------------------------------------------------------
class QualityRunPublic(BaseModel):
    """One pass of the quality gate over a dataset."""

    model_config = _ROW

    id: int
    dataset_id: int
    status: str  # running | completed | failed
    config: dict[str, Any] = Field(default_factory=dict)
    holdout: str | None = None
    seeds: str | None = None
    counts: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
    created_at: Timestamp
    finished_at: Timestamp | None = None


class QualityRecordCreate(BaseModel):
    """What the gate decided about one sample, and what that changes.

    ``sample_status`` / ``sample_reason`` are the sample's new status and reason (``None``
    status: leave the sample as it is); ``review`` queues the sample for a person, with why.
    """

    sample_id: int
    status: str  # accepted | rejected
    score: float
    reason: str | None = None
    rejected_by: str | None = None
    checks: dict[str, Any] = Field(default_factory=dict)
    sample_status: str | None = None
    sample_reason: str | None = None
    review: str | None = None


class QualityRejectPublic(BaseModel):
    """A sample the gate rejected in one run, with every check's result."""

    model_config = ConfigDict(frozen=True)

    sample_id: int
    text: str
    label: str | None
    rejected_by: str | None
    reason: str | None
    score: float
    checks: dict[str, Any]


# -- review ---------------------------------------------------------------------------------
class ReviewItemPublic(BaseModel):
    """A review item with its sample, as a reviewer sees it."""

    model_config = ConfigDict(frozen=True)

    id: int
    dataset_id: int
    sample_id: int
    status: str  # pending | approved | rejected | relabelled | edited
    queued_reason: str
    score: float | None
    text: str
    label: str | None
    decided_by: str | None
    decided_at: Timestamp | None
    note: str | None
    reason: str | None = None  # one of the scheme's review reasons
    bulk_id: str | None = None  # the bulk it was decided in (undone together)
    leased_by: str | None = None  # who may decide it now, until ``leased_until``
    leased_until: Timestamp | None = None
    # what helps decide: provenance, the gate's reasons and per-check results (judge, classifier)
    strategy: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    parent_text: str | None = None
    quality_reason: str | None = None
    checks: dict[str, Any] = Field(default_factory=dict)
    # the sample as it was queued, before the decision changed it (what a blind second review shows)
    queued_text: str | None = None
    queued_label: str | None = None


class ReviewFilter(BaseModel):
    """What a reviewer narrows the queue to; ``reason`` matches part of why an item was queued."""

    model_config = ConfigDict(extra="forbid")

    status: str | None = None
    label: str | None = None
    strategy: str | None = None
    min_score: float | None = None
    max_score: float | None = None
    reason: str | None = None
    text: str | None = None  # part of the sample's text, any case
    # items waiting for this reviewer's second opinion: decided by someone else, not yet by them
    second_for: str | None = None
    # leave out the pending items someone other than this reviewer holds a lease on
    skip_leased_for: str | None = None
    sort: str = "score"  # score | -score | newest | oldest | label | decided
    offset: int = 0
    limit: int = 100


class ReviewDecision(BaseModel):
    """A person's decision on a pending item, and what it changes in the sample (``status``,
    ``reason``, ``label`` or ``text``), applied together."""

    model_config = ConfigDict(extra="forbid")

    status: str
    by: str
    note: str | None = None
    reason: str | None = None
    bulk_id: str | None = None
    sample: dict[str, Any] = Field(default_factory=dict)
    old_label: str | None = None
    new_label: str | None = None
    old_text: str | None = None
    new_text: str | None = None


class ReviewLeases(BaseModel):
    """What a lease request got: the items now leased to the caller until ``until``, those
    another reviewer holds (with who), and those decided already (no lease on them)."""

    granted: list[int]
    held: dict[int, str]
    decided: list[int]
    until: Timestamp


__all__ = [
    "ApiKeyPublic",
    "DatasetPublic",
    "JobEventPublic",
    "JobPublic",
    "QualityRecordCreate",
    "QualityRejectPublic",
    "QualityRunPublic",
    "ReviewDecision",
    "ReviewFilter",
    "ReviewItemPublic",
    "ReviewLeases",
    "SamplePublic",
]
