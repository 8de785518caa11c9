"""API keys: made here, kept only as a hash, looked up by their public id.

A token reads ``sfk_<key_id>_<secret>``: ``key_id`` (12 hex characters) finds the row, and
the SHA-256 of the whole token must match the stored hash (compared in constant time). The
secret has 256 bits from :mod:`secrets`, so a plain hash is enough: there is nothing to
guess that a slow hash would protect. The token is returned once, by :meth:`create_key`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from sentiforge.errors import ConfigError, ConflictError, NotFoundError
from sentiforge.names import check_name
from sentiforge.store.base import StoreBase
from sentiforge.store.schemas import ApiKeyPublic
from sentiforge.store.tables import ApiKeyRow, utcnow

if TYPE_CHECKING:
    from collections.abc import Sequence

SCOPES = ("read", "write", "review", "predict", "admin")  # admin holds every other scope too
PREFIX = "sfk_"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def split_token(token: str) -> str | None:
    """The key id inside a token, or None when it is not shaped like one of ours."""
    if not token.startswith(PREFIX):
        return None
    key_id, sep, secret = token[len(PREFIX) :].partition("_")
    return key_id if sep and len(key_id) == 12 and secret else None


class KeyTables(StoreBase):
    def create_key(self, name: str, scopes: Sequence[str]) -> tuple[ApiKeyPublic, str]:
        """A new key and its token (shown once: only its hash is stored)."""
        check_name(name, "key name")  # the reviewer's name, or the app's
        wanted = sorted(set(scopes))
        unknown = [s for s in wanted if s not in SCOPES]
        if not wanted or unknown:
            raise ConfigError(f"unknown or missing scopes {unknown}; choose among {list(SCOPES)}")
        if any(k.name == name and k.revoked_at is None for k in self.list_keys()):
            raise ConflictError(f"an active key named '{name}' exists already; revoke it first or pick another name")
        key_id = secrets.token_hex(6)
        token = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        with self.session() as s:
            row = ApiKeyRow(key_id=key_id, name=name, scopes=wanted, secret_hash=_hash(token))
            s.add(row)
            s.commit()
            return ApiKeyPublic.model_validate(row), token

    def list_keys(self, *, include_revoked: bool = True) -> list[ApiKeyPublic]:
        q = select(ApiKeyRow).order_by(ApiKeyRow.id)
        if not include_revoked:
            q = q.where(ApiKeyRow.revoked_at.is_(None))
        with self.session() as s:
            return [ApiKeyPublic.model_validate(r) for r in s.scalars(q)]

    def revoke_key(self, id_or_name: str | int) -> ApiKeyPublic:
        """Revoke a key by its number, its key id or the name of the active key."""
        found = [
            k
            for k in self.list_keys()
            if str(k.id) == str(id_or_name) or k.key_id == id_or_name or (k.name == id_or_name and not k.revoked_at)
        ]
        if not found:
            raise NotFoundError(f"no API key {id_or_name!r}; `sentiforge keys list` shows them")
        key = found[0]
        with self.engine.begin() as conn:
            conn.execute(
                update(ApiKeyRow)
                .where(ApiKeyRow.id == key.id, ApiKeyRow.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )
        return next(k for k in self.list_keys() if k.id == key.id)

    def verify_key(self, token: str) -> ApiKeyPublic | None:
        """The active key a token belongs to, or None (unknown, malformed or revoked)."""
        key_id = split_token(token)
        if key_id is None:
            return None
        with self.session() as s:
            row = s.scalar(select(ApiKeyRow).where(ApiKeyRow.key_id == key_id))
        if row is None or row.revoked_at is not None or not hmac.compare_digest(row.secret_hash, _hash(token)):
            return None
        return ApiKeyPublic.model_validate(row)
