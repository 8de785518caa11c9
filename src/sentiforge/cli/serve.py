"""``sentiforge serve``: the HTTP API with uvicorn (one process; deploy/ has Gunicorn and Nginx)."""

from __future__ import annotations

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
        db: Annotated[
            str | None, typer.Option("--db", help="Database URL (default: SENTIFORGE_DATABASE_URL, else SQLite).")
        ] = None,
        log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    ) -> None:
        """Serve the HTTP API (/v1, OpenAPI at /docs). Every route but /health and /ready needs a key:
        make one with `sentiforge keys create --name NAME --scope admin`."""
        import os

        from sentiforge.errors import require

        uvicorn = require("uvicorn", feature="the HTTP service", extra="service")
        require("fastapi", feature="the HTTP service", extra="service")
        if db:
            os.environ["SENTIFORGE_DATABASE_URL"] = db
            from sentiforge.config import get_settings

            get_settings.cache_clear()
        uvicorn.run(  # type: ignore[attr-defined]
            "sentiforge.api.main:create_app",
            factory=True,
            host=host,
            port=port,
            log_level=log_level,
            proxy_headers=True,
        )
