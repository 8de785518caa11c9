"""What the store hands out and takes in: pydantic schemas, never ORM rows.

A ``...Public`` model is what a caller (the CLI, the API, a report) sees of a table row; it is
detached from any session and serialises to JSON as is. A ``...Create`` model is what a caller
passes in to write one. ``models.py`` (the tables) stays private to the store package.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sentiforge.labels import LabelScheme
from sentiforge.samples import Sample

_ROW = ConfigDict(from_attributes=True, frozen=True)


class DatasetPublic(BaseModel):
    """A dataset. ``counts`` (samples per status) is filled by ``list_datasets(counts=True)``."""

    model_config = _ROW

    id: int
    name: str
    kind: str  # real | synthetic
    scheme: LabelScheme
    meta: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    counts: dict[str, int] | None = None


class SamplePublic(Sample):
    """A stored sample with where it lives: its dataset, the job that made it, when."""

    dataset_id: int
    job_id: int | None = None
    created_at: datetime


# -- jobs -----------------------------------------------------------------------------------
# JobPublic goes here (the job methods of Store still return JobRow until it does).


__all__ = ["DatasetPublic", "SamplePublic"]
