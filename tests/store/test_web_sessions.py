"""Workbench sessions in the store, on SQLite and PostgreSQL: a token finds its key and CSRF
token until it is ended, expires, or its key is revoked; only the token's hash is stored."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from sentiforge.store import Store
from sentiforge.store.tables import WebSessionRow


def test_a_session_lives_until_ended_expired_or_its_key_revoked(db_url: str) -> None:
    with Store(db_url) as store:
        key, _ = store.create_key(f"web-{uuid.uuid4().hex[:8]}", ["read"])
        token = store.open_web_session(key, hours=1)
        other = store.open_web_session(key, hours=1)
        found = store.web_session(token)
        assert found is not None and found.key.id == key.id and len(found.csrf) >= 40
        second = store.web_session(other)
        assert second is not None and second.csrf != found.csrf
        assert store.web_session(token + "x") is None and store.web_session("") is None
        with store.session() as s:
            hashes = list(s.scalars(select(WebSessionRow.token_hash)))
        assert token not in hashes and all(len(h) == 64 for h in hashes)
        store.end_web_session(token)
        assert store.web_session(token) is None and store.web_session(other) is not None
        stale = store.open_web_session(key, hours=1e-9)
        assert store.web_session(stale) is None
        store.revoke_key(key.id)
        assert store.web_session(other) is None
