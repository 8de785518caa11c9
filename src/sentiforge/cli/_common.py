"""Shared CLI helpers: the store option, progress bars, printing tables."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from sentiforge.store import Store

if TYPE_CHECKING:
    from sentiforge.backends.base import Backend
    from sentiforge.engine import JobResult

console = Console(stderr=True)
out = Console()

DbOption = Annotated[
    str | None,
    typer.Option("--db", envvar="SENTIFORGE_DATABASE_URL", help="Database URL (default: SQLite in ~/.sentiforge)."),
]


def open_store(db: str | None) -> Store:
    return Store(db or None)


@contextmanager
def progress_bar(description: str, total: int) -> Iterator[Progress]:
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[extra]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as bar:
        bar.add_task(description, total=total, extra="")
        yield bar


def run_job(
    db: str | None, job_id: int, *, backend: Backend | None = None, concurrency: int | None = None
) -> JobResult:
    """Run (or resume) a job with a progress bar; the backend is built from the job's recipe unless given."""
    from sentiforge.backends import from_spec
    from sentiforge.engine import Engine
    from sentiforge.recipe import Recipe

    store = open_store(db)
    job = store.job(job_id)
    chosen = backend or from_spec(Recipe.model_validate(job.recipe).backend)
    with progress_bar(f"job {job_id}", job.target) as bar:
        task = bar.task_ids[0]
        bar.update(task, completed=job.done)

        def progress(done: int, target: int, rejected: int) -> None:
            bar.update(task, completed=done, extra=f"rejected {rejected}")

        async def go() -> JobResult:
            try:
                return await Engine(store, chosen, progress=progress, concurrency=concurrency).run(job_id)
            finally:
                await chosen.aclose()

        result = asyncio.run(go())
    print_result(result)
    return result


def print_result(r: JobResult) -> None:
    console.print(
        f"job {r.job_id}: [bold]{r.status}[/bold], {r.done}/{r.target} samples, {r.rejected} rejected, "
        f"{r.requests} requests ({r.cache_hits} from cache), {r.prompt_tokens}+{r.completion_tokens} tokens, "
        f"${r.cost:.4f}, {r.seconds:.1f} s"
    )
    if r.error:
        console.print(f"[red]{r.error}[/red]")
