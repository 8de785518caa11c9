"""The review queue over HTTP: filtered, searched, sorted pages of items with what helps decide,
decisions (with a note and a reason) recorded under the caller's key name, undo, bulk
approve/reject undone as one step, leases (who may decide an item now), second opinions,
reviewer agreement and the day's totals. Needs the ``review`` scope (or admin)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, Field

from sentiforge.api.deps import Scope, SettingsDep, StoreDep
from sentiforge.api.errors import ERRORS
from sentiforge.api.schemas import MAX_ID, FilterText, NamePath
from sentiforge.names import CallerInput
from sentiforge.quality.review_queue import BulkResult, ReviewQueue, Totals
from sentiforge.store.review_items import SORTS
from sentiforge.store.schemas import ApiKeyPublic, ReviewFilter, ReviewItemPublic, ReviewLeases

router = APIRouter(prefix="/v1/review", tags=["review"], responses=ERRORS)
ReviewKey = Annotated[ApiKeyPublic, Depends(Scope("review"))]
ItemId = Annotated[int, Field(ge=1, le=MAX_ID)]
BulkId = Annotated[str, Path(pattern="^[0-9a-f]{32}$", description="The bulk_id a bulk decision answered")]
Sort = Literal["score", "-score", "newest", "oldest", "label", "decided"]
Note = Annotated[str | None, Field(default=None, max_length=2_000)]
Reason = Annotated[str | None, Field(default=None, max_length=60, description="One of the queue's `reasons`")]
assert set(Sort.__args__) == set(SORTS)  # type: ignore[attr-defined]


class DecisionIn(CallerInput):
    """``approve``, ``reject``, ``relabel`` (with ``label``) or ``edit`` (with ``text``)."""

    action: Literal["approve", "reject", "relabel", "edit"]
    label: str | None = Field(default=None, max_length=100)
    text: str | None = Field(default=None, min_length=1, max_length=20_000)
    note: Note = None
    reason: Reason = None


class BulkIn(CallerInput):
    ids: list[ItemId] = Field(min_length=1, max_length=1_000)
    action: Literal["approve", "reject"]
    note: Note = None
    reason: Reason = None


class SecondIn(CallerInput):
    status: Literal["approved", "rejected", "relabelled", "edited"]
    label: str | None = Field(default=None, max_length=100)


class LeaseIn(CallerInput):
    ids: list[ItemId] = Field(min_length=1, max_length=500)


class NextIn(CallerInput):
    n: int = Field(default=10, ge=1, le=100)
    sort: Sort = "score"


class QueueOut(BaseModel):
    """A dataset's queue at a glance: counts, the scheme's guidelines and review reasons,
    reviewer agreement, the day's totals, and how long a lease lasts."""

    dataset: str
    counts: dict[str, int]
    labels: list[str]
    guidelines: dict[str, str]
    reasons: list[str]
    agreement: dict[str, Any]
    totals: Totals
    lease_seconds: float


def _decide(queue: ReviewQueue, item_id: int, body: DecisionIn, who: str) -> ReviewItemPublic:
    why = {"note": body.note, "reason": body.reason}
    if body.action == "approve":
        return queue.approve(item_id, by=who, **why)
    if body.action == "reject":
        return queue.reject(item_id, by=who, **why)
    if body.action == "relabel":
        return queue.relabel(item_id, body.label or "", by=who, **why)
    return queue.edit(item_id, body.text or "", by=who, **why)


@router.get("/{dataset}")
def queue_summary(dataset: NamePath, store: StoreDep, settings: SettingsDep, key: ReviewKey) -> QueueOut:
    queue = ReviewQueue(store)
    scheme = store.scheme(dataset)
    return QueueOut(
        dataset=dataset,
        counts=queue.counts(dataset),
        labels=list(scheme.labels),
        guidelines={label: scheme.describe(label) for label in scheme.labels},
        reasons=queue.reasons(dataset),
        agreement=queue.agreement(dataset),
        totals=queue.totals(dataset, key.name),
        lease_seconds=settings.review_lease_seconds,
    )


@router.get("/{dataset}/items")
def list_items(
    dataset: NamePath,
    store: StoreDep,
    key: ReviewKey,
    response: Response,
    status: Literal["pending", "approved", "rejected", "relabelled", "edited"] | None = None,
    label: FilterText = None,
    strategy: FilterText = None,
    min_score: Annotated[float | None, Query(ge=0, le=1)] = None,
    max_score: Annotated[float | None, Query(ge=0, le=1)] = None,
    reason: FilterText = None,
    q: Annotated[FilterText, Query(description="Part of the sample's text, any case")] = None,
    second: bool = False,
    skip_leased: Annotated[bool, Query(description="Leave out pending items others hold")] = True,
    sort: Sort = "score",
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[ReviewItemPublic]:
    """A page of items with their sample, provenance, the gate's reasons and checks (lowest score
    first unless ``sort`` says otherwise); the header ``X-Total-Count`` says how many match.
    ``second``: only items decided by someone else and not yet by the caller (second opinions)."""
    f = ReviewFilter(
        status=status,
        label=label,
        strategy=strategy,
        reason=reason,
        text=q,
        min_score=min_score,
        max_score=max_score,
        second_for=key.name if second else None,
        skip_leased_for=key.name if skip_leased else None,
        sort=sort,
        offset=offset,
        limit=limit,
    )
    items, total = ReviewQueue(store).page(dataset, f)
    response.headers["X-Total-Count"] = str(total)
    return items


@router.post("/{dataset}/next")
def lease_next(
    dataset: NamePath, body: NextIn, store: StoreDep, settings: SettingsDep, key: ReviewKey
) -> list[ReviewItemPublic]:
    """The next ``n`` pending items nobody else holds, leased to the caller for the service's
    ``review_lease_seconds``: two reviewers asking at once never get the same item."""
    f = ReviewFilter(sort=body.sort)
    return ReviewQueue(store).lease_next(dataset, body.n, by=key.name, f=f, seconds=settings.review_lease_seconds)


@router.post("/leases")
def lease(body: LeaseIn, store: StoreDep, settings: SettingsDep, key: ReviewKey) -> ReviewLeases:
    """Hold these pending items for the caller (renewing its own leases): those granted, those
    another reviewer holds (and who), those decided already."""
    return ReviewQueue(store).lease(body.ids, by=key.name, seconds=settings.review_lease_seconds)


@router.post("/leases/release")
def release(body: LeaseIn, store: StoreDep, key: ReviewKey) -> dict[str, int]:
    """End the caller's leases on these items (the review page sends it when it closes)."""
    return {"released": ReviewQueue(store).release(body.ids, by=key.name)}


@router.post("/items/{item_id}/decision")
def decide(item_id: ItemId, body: DecisionIn, store: StoreDep, key: ReviewKey) -> ReviewItemPublic:
    """Decide a pending item; recorded under the caller's key name and the time. 409 if decided
    already, or leased to another reviewer (the message names who)."""
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
def bulk(body: BulkIn, store: StoreDep, key: ReviewKey) -> BulkResult:
    """Approve or reject many items under one ``bulk_id``; each is decided on its own (one
    decided or leased by someone else meanwhile fails alone)."""
    return ReviewQueue(store).bulk(body.ids, body.action, by=key.name, note=body.note, reason=body.reason)


@router.post("/bulk/{bulk_id}/undo")
def undo_bulk(bulk_id: BulkId, store: StoreDep, key: ReviewKey) -> dict[str, list[int]]:
    """Take back every decision of the caller's bulk as one step (409 for another's bulk)."""
    return {"undone": ReviewQueue(store).undo_bulk(bulk_id, by=key.name)}
