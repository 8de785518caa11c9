"""``sentiforge quality run / report / rejects``: the quality gate from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from sentiforge.cli._common import DbOption, console, open_store, out, runtime
from sentiforge.config import DEFAULT_MODEL
from sentiforge.progress import Update

quality_app = typer.Typer(
    help="Quality gate: dedup, leakage, label consistency, filters, scores.", no_args_is_help=True
)


@quality_app.command("run")
def run(
    dataset: Annotated[str, typer.Argument(help="The synthetic dataset to gate.")],
    holdout: Annotated[
        str | None, typer.Option(help="Real test/holdout dataset (store name, or vader:tweets ...) to check leaks.")
    ] = None,
    holdout_split: Annotated[str | None, typer.Option(help="Only this split of the holdout dataset.")] = None,
    seeds: Annotated[str | None, typer.Option(help="Real seed dataset for the consistency classifier.")] = None,
    seed_split: Annotated[str | None, typer.Option(help="Split of the seed dataset (never the holdout).")] = "train",
    config: Annotated[Path | None, typer.Option(help="Quality config (YAML/JSON): thresholds, weights.")] = None,
    judge: Annotated[str, typer.Option(help="Judge backend: embedded, openai, fake or none.")] = "embedded",
    judge_model: Annotated[
        str, typer.Option(help="Judge model (embedded: qwen2.5-1.5b | qwen2.5-0.5b).")
    ] = DEFAULT_MODEL,
    embedder: Annotated[
        str | None, typer.Option(help="auto, minilm, multilingual, fake, or none (no embedding checks).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    db: DbOption = None,
) -> None:
    """Run every check over DATASET; each sample gets a record, rejects keep their reason."""
    from sentiforge.app.quality_gate import run_quality
    from sentiforge.app.requests import QualityRequest
    from sentiforge.quality.config import QualityConfig

    request = QualityRequest.build(
        dataset=dataset,
        holdout=holdout,
        holdout_split=holdout_split,
        seeds=seeds,
        seed_split=seed_split,
        config=QualityConfig.load(config).model_dump(mode="json") if config else None,
        judge=judge,
        judge_model=judge_model,
        embedder=embedder,
    )
    with open_store(db) as store:
        total = store.count(store.dataset_id(dataset), status=None)

        def progress(update: Update) -> None:
            counts = update.counts
            console.print(
                f"  {update.done}/{total} examined, {counts.get('rejected', 0)} rejected, "
                f"{counts.get('review', 0)} to review"
            )

        summary = run_quality(store, request, runtime=runtime(), progress=progress)
    if as_json:
        out.print_json(json.dumps(summary.__dict__))
    else:
        _print_summary(summary, dataset, holdout)


def _print_summary(summary: Any, dataset: str, holdout: str | None) -> None:
    c = summary.counts
    console.print(
        f"quality run {summary.run_id} on '{dataset}': {summary.examined} examined, {c.get('accepted', 0)} accepted "
        f"({c.get('flagged', 0)} flagged), {c.get('rejected', 0)} rejected, {c.get('review', 0)} queued for review"
    )
    for key, n in sorted(c.items()):
        if key.startswith("rejected:"):
            console.print(f"  rejected by {key.split(':', 1)[1]}: {n}")
    if holdout:
        console.print(f"  leaks of '{holdout}' found: {sum(summary.leaks.values())} {summary.leaks or ''}")


@quality_app.command("report")
def report(
    dataset: str,
    run_id: Annotated[int | None, typer.Option("--run", help="A run id (default: the latest).")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    db: DbOption = None,
) -> None:
    """What the gate decided: accepted/rejected, rejects per check, leaks, review queue, score."""
    from sentiforge.quality.review_queue import ReviewQueue

    with open_store(db) as store:
        dataset_id = store.dataset_id(dataset)
        row = store.latest_quality_run(dataset_id) if run_id is None else store.quality_run(run_id)
        data = {
            "run": row.id,
            "status": row.status,
            "holdout": row.holdout,
            "seeds": row.seeds,
            "started": row.created_at.isoformat(),
            "finished": row.finished_at.isoformat() if row.finished_at else None,
            **store.quality_record_counts(row.id),
            "leaks": row.counts.get("leaks", {}),
            "seconds": row.counts.get("seconds", {}),
            "review": ReviewQueue(store).counts(dataset),
            "error": row.error,
        }
    if as_json:
        out.print_json(json.dumps(data))
        return
    for key, value in data.items():
        if value not in (None, {}, []):
            out.print(f"[bold]{key}[/bold]: {escape(str(value))}")


@quality_app.command("rejects")
def rejects(
    dataset: str,
    check: Annotated[str | None, typer.Option(help="Only rejects of this check (filters, near_dup, ...).")] = None,
    export: Annotated[Path | None, typer.Option(help="Write them all to a .jsonl or .csv file.")] = None,
    limit: Annotated[int, typer.Option(help="How many to print.")] = 20,
    count: Annotated[bool, typer.Option("--count", help="Only count them, per check.")] = False,
    run_id: Annotated[int | None, typer.Option("--run", help="A run id (default: the latest).")] = None,
    db: DbOption = None,
) -> None:
    """List, count or export the samples the gate rejected, with their reasons."""
    from sentiforge.quality.records import export_rejects

    with open_store(db) as store:
        rid = run_id or store.latest_quality_run(store.dataset_id(dataset)).id
        if count:
            by_check = store.quality_record_counts(rid)["rejected_by_check"]
            out.print_json(json.dumps({"total": sum(by_check.values()), "by_check": by_check}))
            return
        if export is not None:
            n = export_rejects(store.iter_quality_rejects(rid, check=check), export)
            console.print(f"{n} rejects written to {export}")
            return
        for i, row in enumerate(store.iter_quality_rejects(rid, check=check)):
            if i >= limit:
                console.print(f"... more: use --export FILE or --limit {limit * 5}")
                break
            detail = escape(f"[{row.rejected_by}] {row.reason}\n    {row.text[:160]!r}")
            out.print(f"[bold]{row.sample_id}[/bold] {detail}")


def register(app: typer.Typer) -> None:
    app.add_typer(quality_app, name="quality")
