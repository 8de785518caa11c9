"""Shared CLI helpers: the store option, progress bars, printing tables."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from sentiforge.errors import ConfigError
from sentiforge.recipe import BackendSpec
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


# -- the backend options, shared by every command that calls a model --------------------------

BackendOpt = Annotated[str, typer.Option("--backend", help="embedded, openai or fake")]
ModelOpt = Annotated[str, typer.Option("--model", help="qwen2.5-1.5b, qwen2.5-0.5b, a .gguf path, or an API model id")]
BaseUrlOpt = Annotated[
    str | None, typer.Option("--base-url", help="OpenAI-compatible server, e.g. http://localhost:8000/v1")
]
ApiKeyEnvOpt = Annotated[str, typer.Option("--api-key-env", help="Name of the variable holding the API key")]
RpmOpt = Annotated[float | None, typer.Option("--rpm", help="Requests per minute allowed")]
TpmOpt = Annotated[float | None, typer.Option("--tpm", help="Tokens per minute allowed")]
ConcurrencyOpt = Annotated[int, typer.Option("--concurrency", min=1, help="Requests in flight (openai)")]
MaxCostOpt = Annotated[float | None, typer.Option("--max-cost", help="Stop cleanly before spending more (USD)")]
InputPriceOpt = Annotated[float, typer.Option("--input-price", help="USD per million prompt tokens")]
OutputPriceOpt = Annotated[float, typer.Option("--output-price", help="USD per million completion tokens")]
ThreadsOpt = Annotated[int | None, typer.Option("--threads", min=1, help="embedded: llama.cpp threads per copy")]
CopiesOpt = Annotated[
    int,
    typer.Option("--copies", min=1, max=16, help="embedded: model copies answering in parallel (e.g. one per core)"),
]
JsonModeOpt = Annotated[
    str,
    typer.Option(
        "--json-mode",
        help="auto, json_schema, json_object or none (embedded: none skips the JSON grammar, ~2x faster)",
    ),
]


def backend_spec(
    *,
    backend: str,
    model: str,
    base_url: str | None,
    api_key_env: str,
    rpm: float | None,
    tpm: float | None,
    concurrency: int,
    input_price: float,
    output_price: float,
    threads: int | None,
    copies: int,
    json_mode: str,
) -> BackendSpec:
    """The recipe's backend from the shared options (validated by BackendSpec)."""
    try:
        return BackendSpec(
            kind=backend,  # type: ignore[arg-type]
            model=model,
            base_url=base_url,
            api_key_env=api_key_env,
            requests_per_minute=rpm,
            tokens_per_minute=tpm,
            concurrency=concurrency,
            input_per_mtok=input_price,
            output_per_mtok=output_price,
            n_threads=threads,
            copies=copies,
            json_mode=json_mode,  # type: ignore[arg-type]
        )
    except ValueError as exc:  # pydantic's ValidationError
        raise ConfigError(f"bad backend options: {exc}") from exc
