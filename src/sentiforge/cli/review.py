"""``sentiforge review next / list / count / reasons / approve / reject / relabel / edit / undo-bulk``:
the human queue."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from sentiforge.cli._common import DbOption, open_store, out

if TYPE_CHECKING:
    from sentiforge.quality.review_queue import ReviewQueue
    from sentiforge.store.schemas import ReviewItemPublic

review_app = typer.Typer(help="Human review of low-scoring and audited samples.", no_args_is_help=True)
By = Annotated[str, typer.Option("--by", help="Who decides (recorded with the time).")]
Note = Annotated[str | None, typer.Option(help="Why, for the record.")]
Reason = Annotated[str | None, typer.Option(help="One of the scheme's reasons (`sentiforge review reasons DATASET`).")]


@contextmanager
def _queue(db: str | None) -> Iterator[ReviewQueue]:
    """The review queue of the store at ``db``, closed after the command."""
    from sentiforge.quality.review_queue import ReviewQueue

    with open_store(db) as store:
        yield ReviewQueue(store)


def _show(items: list[ReviewItemPublic], as_json: bool) -> None:
    if as_json:
        out.print_json(json.dumps([i.model_dump(mode="json") for i in items]))
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
    with _queue(db) as queue:
        items = queue.next(dataset, n)
    _show(items, as_json)


@review_app.command("list")
def list_items(
    dataset: str,
    status: Annotated[str | None, typer.Option(help="pending, approved, rejected, relabelled, edited")] = None,
    limit: int = 100,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    db: DbOption = None,
) -> None:
    """Items of the queue, optionally of one status."""
    with _queue(db) as queue:
        items = queue.list(dataset, status=status, limit=limit)
    _show(items, as_json)


@review_app.command("count")
def count(dataset: str, db: DbOption = None) -> None:
    """How many items per status."""
    with _queue(db) as queue:
        counts = queue.counts(dataset)
    out.print_json(json.dumps(counts))


@review_app.command("reasons")
def reasons(dataset: str, db: DbOption = None) -> None:
    """The reasons a reviewer picks from for this dataset (its scheme's, else the defaults)."""
    with _queue(db) as queue:
        found = queue.reasons(dataset)
    out.print_json(json.dumps(found))


@review_app.command("undo-bulk")
def undo_bulk(bulk_id: str, by: By, db: DbOption = None) -> None:
    """Take back every decision of one of your bulk decisions (its bulk_id), as one step."""
    with _queue(db) as queue:
        undone = queue.undo_bulk(bulk_id, by=by)
    out.print(f"{len(undone)} items pending again: {undone}")


@review_app.command("approve")
def approve(item: int, by: By, note: Note = None, reason: Reason = None, db: DbOption = None) -> None:
    """Keep the sample as it is."""
    with _queue(db) as queue:
        decided = queue.approve(item, by=by, note=note, reason=reason)
    _show([decided], False)


@review_app.command("reject")
def reject(item: int, by: By, note: Note = None, reason: Reason = None, db: DbOption = None) -> None:
    """Reject the sample (it stays in the store, marked rejected with who did it)."""
    with _queue(db) as queue:
        decided = queue.reject(item, by=by, note=note, reason=reason)
    _show([decided], False)


@review_app.command("relabel")
def relabel(item: int, label: str, by: By, note: Note = None, reason: Reason = None, db: DbOption = None) -> None:
    """Give the sample another label of its scheme."""
    with _queue(db) as queue:
        decided = queue.relabel(item, label, by=by, note=note, reason=reason)
    _show([decided], False)


@review_app.command("edit")
def edit(item: int, text: str, by: By, note: Note = None, reason: Reason = None, db: DbOption = None) -> None:
    """Replace the sample's text."""
    with _queue(db) as queue:
        decided = queue.edit(item, text, by=by, note=note, reason=reason)
    _show([decided], False)


def register(app: typer.Typer) -> None:
    app.add_typer(review_app, name="review")
