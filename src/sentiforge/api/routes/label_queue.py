"""Label these next, over HTTP: the queue of a pool's texts whose labels would help a model
most (``read`` or ``review`` scope), and the labels people give there, stored in a human seed
dataset under the caller's key name (``review`` or ``write`` scope)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import Field

from sentiforge.api.deps import RegistryDep, Scope, SettingsDep, StoreDep
from sentiforge.api.routes.jobs import ERRORS
from sentiforge.api.schemas import MAX_ID
from sentiforge.app.label_next import MAX_QUEUE, Labelled, LabelQueue, give_label, queue
from sentiforge.names import NAME_PATTERN, CallerInput, Name
from sentiforge.store.schemas import ApiKeyPublic

router = APIRouter(prefix="/v1/label-queue", tags=["label queue"], responses=ERRORS)
QueueKey = Annotated[ApiKeyPublic, Depends(Scope("read", "review"))]
LabelKey = Annotated[ApiKeyPublic, Depends(Scope("review", "write"))]
NameQuery = Annotated[str, Query(pattern=NAME_PATTERN, description="A name: 1-100 of A-Z a-z 0-9 . _ -")]
OptionalName = Annotated[str | None, Query(pattern=NAME_PATTERN)]


class LabelIn(CallerInput):
    """A person's label of one pool text (``id`` from the queue)."""

    pool: Name
    id: int = Field(ge=1, le=MAX_ID)
    label: str = Field(min_length=1, max_length=100)
    model: Name | None = None  # default: the service's default model
    into: Name | None = None  # the human seed dataset (default: <pool>-human)


@router.get("")
def label_queue(
    store: StoreDep,
    registry: RegistryDep,
    _: QueueKey,
    pool: NameQuery,
    model: OptionalName = None,
    into: OptionalName = None,
    n: Annotated[int, Query(ge=1, le=MAX_QUEUE)] = 20,
    method: Literal["margin", "diverse-margin", "random"] = "margin",
    seed: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> LabelQueue:
    """The ``n`` texts of ``pool`` to label next for ``model``, most uncertain first (``method``:
    ``margin``; ``diverse-margin`` takes one per group of similar texts); texts already labelled
    in ``into`` are left out, and after every 25 labels the model is refitted on them."""
    return queue(store, registry, model, pool, into=into, n=n, method=method, seed=seed)


@router.post("/labels", status_code=201)
def label(body: LabelIn, store: StoreDep, registry: RegistryDep, settings: SettingsDep, key: LabelKey) -> Labelled:
    """Store the label in the human seed dataset with the caller's key name and the time (409
    when the text has a label there already); ``sentiforge build --seeds <into>`` rebuilds."""
    return give_label(
        store, registry, body.model, body.pool, body.id, body.label, by=key.name, into=body.into,
        datasets=settings.datasets,
    )  # fmt: skip
