"""The review queue over HTTP: filtered items with what helps decide, decisions recorded under
the caller's key name, undo, bulk approve/reject, second opinions and reviewer agreement.
Needs the ``review`` scope (or admin)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from sentiforge.api.deps import Scope, StoreDep
from sentiforge.api.errors import ERRORS
from sentiforge.api.schemas import MAX_ID, FilterText, NamePath
from sentiforge.errors import SentiforgeError
from sentiforge.names import CallerInput
from sentiforge.quality.review_queue import ReviewQueue
from sentiforge.store.schemas import ApiKeyPublic, ReviewFilter, ReviewItemPublic

router = APIRouter(prefix="/v1/review", tags=["review"], responses=ERRORS)
ReviewKey = Annotated[ApiKeyPublic, Depends(Scope("review"))]
ItemId = Annotated[int, Field(ge=1, le=MAX_ID)]


class DecisionIn(CallerInput):
    """``approve``, ``reject``, ``relabel`` (with ``label``) or ``edit`` (with ``text``)."""

    action: Literal["approve", "reject", "relabel", "edit"]
    label: str | None = Field(default=None, max_length=100)
    text: str | None = Field(default=None, min_length=1, max_length=20_000)
    note: str | None = Field(default=None, max_length=2_000)


class BulkIn(CallerInput):
    ids: list[ItemId] = Field(min_length=1, max_length=1_000)
    action: Literal["approve", "reject"]
    note: str | None = Field(default=None, max_length=2_000)


class SecondIn(CallerInput):
    status: Literal["approved", "rejected", "relabelled", "edited"]
    label: str | None = Field(default=None, max_length=100)


class BulkOut(BaseModel):
    decided: list[int]
    failed: dict[int, str]


class QueueOut(BaseModel):
    """A dataset's queue at a glance: counts, the scheme's guidelines, reviewer agreement."""

    dataset: str
    counts: dict[str, int]
    labels: list[str]
    guidelines: dict[str, str]
    agreement: dict[str, Any]


def _decide(queue: ReviewQueue, item_id: int, body: DecisionIn, who: str) -> ReviewItemPublic:
    if body.action == "approve":
        return queue.approve(item_id, by=who, note=body.note)
    if body.action == "reject":
        return queue.reject(item_id, by=who, note=body.note)
    if body.action == "relabel":
        return queue.relabel(item_id, body.label or "", by=who, note=body.note)
    return queue.edit(item_id, body.text or "", by=who, note=body.note)


@router.get("/{dataset}")
def queue_summary(dataset: NamePath, store: StoreDep, _: ReviewKey) -> QueueOut:
    queue = ReviewQueue(store)
    scheme = store.scheme(dataset)
    return QueueOut(
        dataset=dataset,
        counts=queue.counts(dataset),
        labels=list(scheme.labels),
        guidelines={label: scheme.describe(label) for label in scheme.labels},
        agreement=queue.agreement(dataset),
    )


@router.get("/{dataset}/items")
def list_items(
    dataset: NamePath,
    store: StoreDep,
    key: ReviewKey,
    status: Literal["pending", "approved", "rejected", "relabelled", "edited"] | None = None,
    label: FilterText = None,
    strategy: FilterText = None,
    min_score: Annotated[float | None, Query(ge=0, le=1)] = None,
    max_score: Annotated[float | None, Query(ge=0, le=1)] = None,
    reason: FilterText = None,
    second: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[ReviewItemPublic]:
    """Items with their sample, provenance, the gate's reasons and checks; lowest score first.
    ``second``: only items decided by someone else and not yet by the caller (second opinions)."""
    f = ReviewFilter(
        status=status,
        label=label,
        strategy=strategy,
        reason=reason,
        min_score=min_score,
        max_score=max_score,
        second_for=key.name if second else None,
        limit=limit,
    )
    return ReviewQueue(store).filter(dataset, f)


@router.post("/items/{item_id}/decision")
def decide(item_id: ItemId, body: DecisionIn, store: StoreDep, key: ReviewKey) -> ReviewItemPublic:
    """Decide a pending item; recorded under the caller's key name and the time (409 if decided)."""
    return _decide(ReviewQueue(store), item_id, body, key.name)


@router.post("/items/{item_id}/undo")
def undo(item_id: ItemId, store: StoreDep, key: ReviewKey) -> ReviewItemPublic:
    """Take back the caller's decision on an item: the sample is restored, the item pending again."""
    return ReviewQueue(store).undo(item_id, by=key.name)


@router.post("/items/{item_id}/second", status_code=204)
def second(item_id: ItemId, body: SecondIn, store: StoreDep, key: ReviewKey) -> None:
    """A second reviewer's verdict on a decided item, counted for agreement only."""
    ReviewQueue(store).second(item_id, body.status, by=key.name, label=body.label)


@router.post("/bulk")
def bulk(body: BulkIn, store: StoreDep, key: ReviewKey) -> BulkOut:
    """Approve or reject many items; each is decided on its own (one decided meanwhile fails alone)."""
    queue, out = ReviewQueue(store), BulkOut(decided=[], failed={})
    for item_id in body.ids:
        try:
            _decide(queue, item_id, DecisionIn(action=body.action, note=body.note), key.name)
            out.decided.append(item_id)
        except SentiforgeError as exc:
            out.failed[item_id] = str(exc)
    return out
