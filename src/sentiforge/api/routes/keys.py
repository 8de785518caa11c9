"""API keys over HTTP (admin scope): list, create (the token is answered once), revoke."""

from __future__ import annotations

from fastapi import APIRouter

from sentiforge.api.deps import AdminKey, StoreDep
from sentiforge.api.errors import ERRORS
from sentiforge.api.schemas import KeyCreate, KeyCreated, NamePath
from sentiforge.store.schemas import ApiKeyPublic

router = APIRouter(prefix="/v1/keys", tags=["keys"], responses=ERRORS)


@router.get("")
def list_keys(store: StoreDep, _: AdminKey) -> list[ApiKeyPublic]:
    return store.list_keys()


@router.post("", status_code=201)
def create_key(body: KeyCreate, store: StoreDep, _: AdminKey) -> KeyCreated:
    key, token = store.create_key(body.name, body.scopes)
    return KeyCreated(key=key, token=token)


@router.post("/{key}/revoke")
def revoke_key(key: NamePath, store: StoreDep, _: AdminKey) -> ApiKeyPublic:
    """Revoke by number, key id or the active key's name."""
    return store.revoke_key(key)
