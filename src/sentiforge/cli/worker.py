"""``sentiforge worker``: a Celery worker running job shards (needs SENTIFORGE_BROKER_URL)."""

from __future__ import annotations

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def worker(
        concurrency: Annotated[int, typer.Option(help="Shards this worker runs at once (processes).")] = 1,
        name: Annotated[str | None, typer.Option(help="Worker name (default: celery@host).")] = None,
        log_level: Annotated[str, typer.Option(help="Celery log level.")] = "info",
    ) -> None:
        """Run job shards from the broker. Workers share the database (SENTIFORGE_DATABASE_URL), the
        response cache and, with SENTIFORGE_LIMITS_URL, the provider's rate limits."""
        from sentiforge.worker.tasks import app as celery

        argv = ["worker", "--pool", "prefork", "--concurrency", str(concurrency), "--loglevel", log_level]
        if name:
            argv += ["--hostname", name]
        celery.worker_main(argv)
