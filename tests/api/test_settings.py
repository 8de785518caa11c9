"""The service is an entry point: create_app hands its store the settings' database URL and
pool size, and its jobs the settings' Runtime."""

from __future__ import annotations

from pathlib import Path

import pytest

from sentiforge.api.main import create_app
from sentiforge.config import Settings


@pytest.mark.postgres
async def test_create_app_opens_the_store_with_the_settings_url_and_pool_size(tmp_path: Path, api_pg_url: str) -> None:
    settings = Settings(home=tmp_path, database_url=api_pg_url, db_pool_size=3, drift_embedder="fake")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        store = app.state.store
        assert store.url == api_pg_url and store.pool_size == 3
        assert store.engine.pool.size() == 3 and store.engine.pool._max_overflow == 3  # type: ignore[attr-defined]
        assert app.state.runner.runtime == settings.runtime()
