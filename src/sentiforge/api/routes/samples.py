"""Samples of a dataset: paged, filtered by label, strategy, status, split, quality score, review state."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from sentiforge.api.deps import ReadKey, StoreDep
from sentiforge.api.errors import ERRORS
from sentiforge.api.schemas import Cursor, NamePath, Page
from sentiforge.app import data
from sentiforge.store.schemas import SampleFilter, SamplePublic

router = APIRouter(prefix="/v1/datasets", tags=["samples"], responses=ERRORS)


@router.get("/{name}/samples")
def list_samples(
    name: NamePath,
    store: StoreDep,
    _: ReadKey,
    where: Annotated[SampleFilter, Query()],
    cursor: Cursor = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Page[SamplePublic]:
    """A page of samples in id order, each with its latest quality score and review state."""
    found = data.browse_samples(store, name, where, after=cursor, limit=limit + 1)
    return Page.of(found, limit)
