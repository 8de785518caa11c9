"""``sentiforge review next / list / count / approve / reject / relabel / edit``: the human queue."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from sentiforge.cli._common import DbOption, open_store, out

if TYPE_CHECKING:
    from sentiforge.quality.review import ReviewQueue, ReviewView

review_app = typer.Typer(help="Human review of low-scoring and audited samples.", no_args_is_help=True)
By = Annotated[str, typer.Option("--by", help="Who decides (recorded with the time).")]
Note = Annotated[str | None, typer.Option(help="Why, for the record.")]


def _queue(db: str | None) -> ReviewQueue:
    from sentiforge.quality.review import ReviewQueue

    return ReviewQueue(open_store(db))


def _show(items: list[ReviewView], as_json: bool) -> None:
    if as_json:
        out.print_json(json.dumps([i.as_dict() for i in items]))
        return
    if not items:
        out.print("nothing to review")
    for i in items:
        who = f" by {i.decided_by}" if i.decided_by else ""
        score = f"{i.score:.2f}" if i.score is not None else "-"
        head = escape(f"[{i.status}{who}] score {score} - {i.queued_reason}")
        out.print(f"[bold]#{i.id}[/bold] sample {i.sample_id} {head}")
        out.print(escape(f"    label: {i.label}   text: {i.text[:300]!r}"))


@review_app.command("next")
def next_items(
    dataset: str,
    n: Annotated[int, typer.Option("-n", min=1)] = 1,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    db: DbOption = None,
) -> None:
    """The next pending items (lowest score first)."""
    _show(_queue(db).next(dataset, n), as_json)


@review_app.command("list")
def list_items(
    dataset: str,
    status: Annotated[str | None, typer.Option(help="pending, approved, rejected, relabelled, edited")] = None,
    limit: int = 100,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    db: DbOption = None,
) -> None:
    """Items of the queue, optionally of one status."""
    _show(_queue(db).list(dataset, status=status, limit=limit), as_json)


@review_app.command("count")
def count(dataset: str, db: DbOption = None) -> None:
    """How many items per status."""
    out.print_json(json.dumps(_queue(db).counts(dataset)))


@review_app.command("approve")
def approve(item: int, by: By, note: Note = None, db: DbOption = None) -> None:
    """Keep the sample as it is."""
    _show([_queue(db).approve(item, by=by, note=note)], False)


@review_app.command("reject")
def reject(item: int, by: By, note: Note = None, db: DbOption = None) -> None:
    """Reject the sample (it stays in the store, marked rejected with who did it)."""
    _show([_queue(db).reject(item, by=by, note=note)], False)


@review_app.command("relabel")
def relabel(item: int, label: str, by: By, note: Note = None, db: DbOption = None) -> None:
    """Give the sample another label of its scheme."""
    _show([_queue(db).relabel(item, label, by=by, note=note)], False)


@review_app.command("edit")
def edit(item: int, text: str, by: By, note: Note = None, db: DbOption = None) -> None:
    """Replace the sample's text."""
    _show([_queue(db).edit(item, text, by=by, note=note)], False)


def register(app: typer.Typer) -> None:
    app.add_typer(review_app, name="review")
