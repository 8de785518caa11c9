"""``sentiforge label-next``: the pool texts whose labels would help a model most, and labels
given from the terminal (the page ``/label`` does the same in a browser)."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from sentiforge.cli._common import DbOption, console, open_store, runtime
from sentiforge.errors import ConfigError


def label_next(
    model: Annotated[Path, typer.Option(help="A model folder saved by `sentiforge build` or `train`.")],
    pool: Annotated[str, typer.Option(help="The unlabelled pool: a dataset (e.g. from `sentiforge ground`).")],
    into: Annotated[str | None, typer.Option(help="The human seed dataset (default: <pool>-human).")] = None,
    n: Annotated[int, typer.Option("-n", help="How many texts to show.", min=1, max=100)] = 20,
    give: Annotated[
        list[str] | None, typer.Option(help="Store a label: ID=LABEL, an id from the queue (repeatable).")
    ] = None,
    reviewer: Annotated[str | None, typer.Option(help="Who labels (default: the login name).")] = None,
    seed: int = 0,
    db: DbOption = None,
) -> None:
    """Show the queue of texts to label next (uncertain and diverse), or store labels with --give;
    then `sentiforge build <pool>-human --out DIR` rebuilds the model on seeds plus labels."""
    from sentiforge.app.label_next import give_label, queue
    from sentiforge.app.predict import ModelRegistry

    registry = ModelRegistry(model.parent, base_model_dir=runtime().model_dir)
    with open_store(db) as store:
        for pair in give or []:
            pool_id, label = _pair(pair)
            done = give_label(store, registry, model.name, pool, pool_id, label,
                              by=reviewer or getpass.getuser(), into=into, datasets=runtime().datasets)  # fmt: skip
            console.print(f"{done.pool_id}: {done.label} -> '{done.dataset}' ({done.reviewer}, {done.labelled_at})")
        if give:
            return
        q = queue(store, registry, model.name, pool, into=into, n=n, seed=seed)
    labels = ", ".join(q.labels)
    console.print(f"'{q.pool}': {q.pool_size} texts, {q.labelled} labelled in '{q.into}'; labels: {labels}")
    for item in q.items:
        typer.echo(f"{item.id}\t{item.margin:.2f}\t{item.predicted}\t{item.text[:100]}")  # tab-separated


def _pair(item: str) -> tuple[int, str]:
    pool_id, sep, label = item.partition("=")
    if not sep or not pool_id.strip().isdigit() or not label.strip():
        raise ConfigError(f"--give takes ID=LABEL (an id from the queue and a label), not {item!r}")
    return int(pool_id), label.strip()


def register(app: typer.Typer) -> None:
    app.command("label-next")(label_next)
