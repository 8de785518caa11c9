"""Samples of a dataset: paged, filtered by label, strategy, status, split, quality score, review state."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from sentiforge.api.deps import ReadKey, StoreDep
from sentiforge.api.routes.jobs import ERRORS
from sentiforge.api.schemas import Page
from sentiforge.app import data
from sentiforge.store.schemas import SamplePublic

router = APIRouter(prefix="/v1/datasets", tags=["samples"], responses=ERRORS)


@router.get("/{name}/samples")
def list_samples(
    name: str,
    store: StoreDep,
    _: ReadKey,
    status: Literal["accepted", "rejected", "any"] = "accepted",
    label: str | None = None,
    strategy: str | None = None,
    split: str | None = None,
    min_score: Annotated[float | None, Query(ge=0, le=1)] = None,
    max_score: Annotated[float | None, Query(ge=0, le=1)] = None,
    review: Literal["pending", "approved", "rejected", "relabelled", "edited"] | None = None,
    cursor: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Page[SamplePublic]:
    """A page of samples in id order, each with its latest quality score and review state."""
    found = data.browse_samples(
        store,
        name,
        status=None if status == "any" else status,
        label=label,
        strategy=strategy,
        split=split,
        min_score=min_score,
        max_score=max_score,
        review=review,
        after=cursor,
        limit=limit + 1,
    )
    return Page.of(found, limit)
