"""Public schemas: what the store hands its callers (CLI, API, workers) instead of ORM rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class JobPublic(BaseModel):
    """A job as callers see it: its recipe, status, progress, spend and who runs it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    dataset_id: int
    recipe: dict[str, Any]
    status: str
    target: int
    done: int
    rejected: int
    requests: int
    cache_hits: int
    prompt_tokens: int
    completion_tokens: int
    cost: float
    error: str | None = None
    claimed_by: str | None = None
    heartbeat_at: datetime | None = None
    cancel_requested: bool = False
    created_at: datetime
    updated_at: datetime
