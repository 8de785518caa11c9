"""Workbench logins: a session cookie stands for one API key until it expires, is ended
(logout) or its key is revoked.

The cookie holds a random token (256 bits); only its SHA-256 is stored, as for API keys. Each
session has its own CSRF token, which the workbench's forms send back.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from pydantic import BaseModel
from sqlalchemy import delete, select

from sentiforge.store.base import StoreBase
from sentiforge.store.schemas import ApiKeyPublic
from sentiforge.store.tables import ApiKeyRow, WebSessionRow, utcnow


class WebSession(BaseModel):
    """An open login: the key it acts as, and the CSRF token its forms carry."""

    key: ApiKeyPublic
    csrf: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class WebSessionTables(StoreBase):
    def open_web_session(self, key: ApiKeyPublic, hours: float) -> str:
        """A new session for ``key`` lasting ``hours``; returns its token (kept only as a hash).
        Expired sessions are swept here, so the table holds only live ones and a few stale."""
        token = secrets.token_urlsafe(32)
        now = utcnow()
        with self.session() as s:
            s.execute(delete(WebSessionRow).where(WebSessionRow.expires_at <= now))
            s.add(
                WebSessionRow(
                    token_hash=_hash(token),
                    api_key_id=key.id,
                    csrf=secrets.token_urlsafe(32),
                    created_at=now,
                    expires_at=now + timedelta(hours=hours),
                )
            )
            s.commit()
        return token

    def web_session(self, token: str) -> WebSession | None:
        """The live session of a token: None when unknown, expired, or its key revoked."""
        q = (
            select(WebSessionRow.csrf, ApiKeyRow)
            .join(ApiKeyRow, ApiKeyRow.id == WebSessionRow.api_key_id)
            .where(
                WebSessionRow.token_hash == _hash(token),
                WebSessionRow.expires_at > utcnow(),
                ApiKeyRow.revoked_at.is_(None),
            )
        )
        with self.session() as s:
            row = s.execute(q).first()
            if row is None:
                return None
            return WebSession(key=ApiKeyPublic.model_validate(row[1]), csrf=row[0])

    def end_web_session(self, token: str) -> None:
        """Logout: the session is deleted, so its cookie opens nothing any more."""
        with self.session() as s:
            s.execute(delete(WebSessionRow).where(WebSessionRow.token_hash == _hash(token)))
            s.commit()
