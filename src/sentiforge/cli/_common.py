"""Shared CLI helpers: the settings, the store option, progress bars, printing tables.

The CLI is an entry point: it reads the settings (:func:`~sentiforge.config.get_settings`) and
hands the application layer what it needs (a database URL, a :class:`~sentiforge.config.Runtime`)."""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from sentiforge.config import DEFAULT_API_KEY_ENV, DEFAULT_MODEL, Runtime, get_settings
from sentiforge.errors import ConfigError
from sentiforge.progress import Update
from sentiforge.recipe import BackendSpec
from sentiforge.store import Store

if TYPE_CHECKING:
    from sentiforge.app.requests import JobRequest
    from sentiforge.backends.base import Backend
    from sentiforge.engine import JobResult

RequestT = TypeVar("RequestT", bound=BaseModel)

console = Console(stderr=True)
out = Console()

DbOption = Annotated[
    str | None,
    typer.Option("--db", envvar="SENTIFORGE_DATABASE_URL", help="Database URL (default: SQLite in ~/.sentiforge)."),
]


def database_url(db: str | None) -> str:
    """The database a command works on: ``--db``, else the settings' (SENTIFORGE_DATABASE_URL)."""
    return db or get_settings().database_url


def open_store(db: str | None) -> Store:
    """The store a command works on (``--db`` or the settings); a ``with`` block closes it."""
    return Store(database_url(db), pool_size=get_settings().db_pool_size)


def runtime() -> Runtime:
    """What the application layer needs from the settings (templates, datasets, summaries)."""
    return get_settings().runtime()


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


def run_job(store: Store, job_id: int, *, backend: Backend | None = None) -> JobResult:
    """Run (or resume) a job with a progress bar, print its result, and return it."""
    from sentiforge.app import jobs

    job = store.job(job_id)
    with progress_bar(f"job {job_id}", job.target) as bar:
        task = bar.task_ids[0]
        bar.update(task, completed=job.done)

        def progress(update: Update) -> None:
            bar.update(task, completed=update.done, extra=f"rejected {update.rejected}")

        result = jobs.run_sync(store, job_id, backend=backend, progress=progress, runtime=runtime())
    print_result(result)
    print_decisions(store, job_id)
    from sentiforge.app.summaries import wait_for_summaries

    if not wait_for_summaries(timeout=0):
        console.print("summary: n-gram measures kept; the embedding measures follow (Ctrl-C skips them)...")
        wait_for_summaries()
    return result


def print_decisions(store: Store, job_id: int) -> None:
    """What the job decided on its own: the judge's calibration, quotas moved off dead cells."""
    for event in store.job_events(job_id):
        data = event.data or {}
        if event.kind == "judge_calibrated":
            per = ", ".join(
                f"{label} P {_num(r.get('precision'))} R {_num(r.get('recall'))}"
                for label, r in data.get("per_label", {}).items()
            )
            console.print(
                f"judge calibrated on {data.get('n')} texts ({data.get('source')}), cross-validated: {per}",
                highlight=False,
            )
        elif event.kind == "quota_moved":
            moved = f"quota moved: {data.get('from')} -> {data.get('to')} (its label never held)"
            console.print(moved, highlight=False)


def _num(x: object) -> str:
    return f"{x:.2f}" if isinstance(x, int | float) else "-"


def submit_and_run(store: Store, request: JobRequest) -> None:
    """Create the job a request describes, run it, and exit 1 unless it completed."""
    from sentiforge.app import jobs

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", jobs.UnusedAttributeWarning)
        job_id = jobs.submit(store, request, runtime=runtime())
    for warning in caught:
        console.print(f"[yellow]warning:[/yellow] {warning.message}", highlight=False)
    console.print(f"job {job_id} created for dataset '{request.dataset}' (resume with: sentiforge resume {job_id})")
    if run_job(store, job_id).status != "completed":
        raise typer.Exit(1)


def print_result(r: JobResult) -> None:
    console.print(
        f"job {r.job_id}: [bold]{r.status}[/bold], {r.done}/{r.target} samples, {r.rejected} rejected, "
        f"{r.requests} requests ({r.cache_hits} from cache), {r.prompt_tokens}+{r.completion_tokens} tokens, "
        f"${r.cost:.4f}, {r.seconds:.1f} s"
    )
    if r.error:
        console.print(f"[red]{r.error}[/red]")
    if r.reused:
        jobs = ", ".join(str(j) for j in sorted(r.reused))
        console.print(
            f"[yellow]warning:[/yellow] {sum(r.reused.values())} answers came from the cache of earlier jobs "
            f"({jobs}) that sent the same requests: this dataset repeats their texts. Run with --fresh to send "
            "every request again, or change --seed.",
            highlight=False,
        )


# -- the backend options, shared by every command that calls a model --------------------------

MaxCostOpt = Annotated[float | None, typer.Option("--max-cost", help="Stop cleanly before spending more (USD)")]
FreshOpt = Annotated[
    bool,
    typer.Option(
        "--fresh",
        help="Send every request again, even one whose answer an earlier job cached (the same recipe and "
        "seed into another dataset otherwise copies its texts). A seeded backend may still answer alike: "
        "change --seed for other texts.",
    ),
]
TemplatesOpt = Annotated[
    str | None,
    typer.Option(
        "--templates",
        help="Folder of edited prompt templates (`sentiforge templates copy DIR` makes one), looked up before "
        "the packaged ones. Default: SENTIFORGE_TEMPLATES_DIR.",
    ),
]

# option name -> (its annotated type, its default, the BackendSpec field it fills)
BACKEND_OPTIONS: dict[str, tuple[Any, Any, str]] = {
    "backend": (Annotated[str, typer.Option(help="embedded, openai or fake: each its options")], "embedded", "kind"),
    "model": (
        Annotated[str, typer.Option(help="qwen2.5-1.5b, qwen2.5-0.5b, a .gguf path, or an API model id")],
        DEFAULT_MODEL,
        "model",
    ),
    "base_url": (
        Annotated[str | None, typer.Option(help="openai: the server, e.g. http://localhost:8000/v1")],
        None,
        "base_url",
    ),
    "api_key_env": (
        Annotated[str, typer.Option(help="openai: name of the variable holding the API key")],
        DEFAULT_API_KEY_ENV,
        "api_key_env",
    ),
    "rpm": (Annotated[float | None, typer.Option(help="openai: requests a minute")], None, "requests_per_minute"),
    "tpm": (Annotated[float | None, typer.Option(help="openai: tokens per minute allowed")], None, "tokens_per_minute"),
    "concurrency": (Annotated[int, typer.Option(min=1, help="openai, fake: requests in flight")], 8, "concurrency"),
    "input_price": (Annotated[float, typer.Option(help="USD per million prompt tokens")], 0.0, "input_per_mtok"),
    "output_price": (Annotated[float, typer.Option(help="USD per million completion tokens")], 0.0, "output_per_mtok"),
    "threads": (
        Annotated[int | None, typer.Option(min=1, help="embedded: llama-server threads (default: the cores)")],
        None,
        "n_threads",
    ),
    "parallel": (
        Annotated[
            int | None,
            typer.Option(min=1, max=256, help="embedded: llama-server slots decoding at once (default: 2 a core)"),
        ],
        None,
        "parallel",
    ),
    "batch_api": (
        Annotated[
            bool,
            typer.Option(
                "--batch-api",
                help="openai: send the requests as provider batches (/v1/batches): half price, answered "
                "within 24 h; a resumed job re-attaches to its running batch",
            ),
        ],
        False,
        "batch_api",
    ),
    "json_mode": (
        Annotated[
            str, typer.Option(help="auto, json_schema, json_object or none (embedded: none skips the JSON grammar)")
        ],
        "auto",
        "json_mode",
    ),
}


def with_backend_options(command: Callable[..., None]) -> Callable[..., None]:
    """Give a command the shared backend options; it receives them as ``spec: BackendSpec``
    (the model of the kind ``--backend`` names; options left at their defaults that the kind
    does not have are dropped, any other is refused: backend_spec.py).

    One option set for every command that calls a model, so ``generate`` and ``augment``
    cannot drift apart. Typer reads the wrapper's signature: the command's own parameters
    (minus ``spec``) followed by the options above.
    """
    signature = inspect.signature(command, eval_str=True)
    own = [p for p in signature.parameters.values() if p.name != "spec"]
    added = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
        for name, (annotation, default, _) in BACKEND_OPTIONS.items()
    ]

    @functools.wraps(command)
    def wrapper(**kwargs: Any) -> None:
        fields = {BACKEND_OPTIONS[name][2]: kwargs.pop(name) for name in BACKEND_OPTIONS}
        try:
            spec = BackendSpec(**fields)
        except ValueError as exc:  # pydantic's ValidationError
            raise ConfigError(f"bad backend options: {exc}") from exc
        command(**kwargs, spec=spec)

    wrapper.__signature__ = signature.replace(parameters=[*own, *added])  # type: ignore[attr-defined]
    del wrapper.__wrapped__  # typer must see the signature above, not the command's
    wrapper.__annotations__ = {p.name: p.annotation for p in [*own, *added]}
    return wrapper


def request_from(model: type[RequestT], options: dict[str, Any], **option_of: str) -> RequestT:
    """The request a command's options describe (pass ``locals()``): each field of the request
    model takes the option of the same name, or the one ``option_of`` names for it. Paths become
    strings, as in a JSON body; options that are not fields (``--db``, ``--json``) are left out."""
    values: dict[str, Any] = {}
    for name in model.model_fields:
        option = option_of.get(name, name)
        if option in options:
            value = options[option]
            values[name] = str(value) if isinstance(value, Path) else value
    built: RequestT = model.build(**values)  # type: ignore[attr-defined]
    return built
