"""``sentiforge ground`` and ``sentiforge pseudo-label``: unlabelled text as a resource."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from sentiforge.cli._common import DbOption, console, open_store, out, runtime
from sentiforge.config import DEFAULT_MODEL


def ground(
    file: Annotated[Path, typer.Argument(help="Unlabelled texts: .txt (by paragraph or line), .jsonl, .csv or .tsv.")],
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="The pool dataset to create.")],
    text_col: Annotated[str, typer.Option(help="Column with the text (.jsonl/.csv).")] = "text",
    clusters: Annotated[int | None, typer.Option(help="How many clusters (default: about sqrt(n/4)).", min=1)] = None,
    embedder: Annotated[str, typer.Option(help="auto (by language), minilm, multilingual or fake.")] = "auto",
    language: Annotated[str, typer.Option(help="Language of the texts (auto: detect it).")] = "auto",
    scheme: Annotated[str, typer.Option(help="Label scheme of the data to make from the pool.")] = "three_class",
    seed: int = 0,
    db: DbOption = None,
) -> None:
    """Chunk, embed and cluster unlabelled texts into a pool for `generate --pool` and `pseudo-label`."""
    from sentiforge.app.unlabelled import ground_file

    with open_store(db) as store:
        r = ground_file(
            store, file, dataset, text_column=text_col, language=language, embedder=embedder,
            clusters=clusters, scheme=scheme, seed=seed,
        )  # fmt: skip
    console.print(
        f"'{r.dataset}': {r.chunks} chunks of {r.texts} texts, language {r.language}, "
        f"{len(r.clusters)} clusters ({r.embedder})"
    )
    for cluster, info in r.clusters.items():
        out.print(f"  {cluster}: {info['size']} texts, topic: {info['topic']}")


def pseudo_label(
    pool: Annotated[str, typer.Option(help="The unlabelled pool (made by `sentiforge ground`).")],
    seeds: Annotated[str, typer.Option(help="Real labelled seeds (a dataset, or vader:tweets ...).")],
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="The pseudo-labelled dataset to create.")],
    seed_split: Annotated[str | None, typer.Option(help="Split of the seed dataset.")] = "train",
    precision: Annotated[float, typer.Option(help="Precision the threshold must promise on the seeds.")] = 0.9,
    judge: Annotated[str, typer.Option(help="The judge must agree too: embedded, openai, fake or none.")] = "none",
    judge_model: Annotated[str, typer.Option(help="Judge model.")] = DEFAULT_MODEL,
    balance: Annotated[
        bool, typer.Option(help="One threshold per label, the kept texts in the seeds' label proportions.")
    ] = True,
    accept_lower: Annotated[
        bool, typer.Option(help="Keep the texts even when the seeds promise less than --precision.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Label the pool where the seed classifier is confident (thresholds tuned on the seeds, their
    precision measured on seeds they did not see)."""
    from sentiforge.app.quality_gate import judge_client
    from sentiforge.app.unlabelled import pseudo_label_pool

    with open_store(db) as store:
        client = judge_client(store, judge, judge_model, runtime())
        summary = pseudo_label_pool(
            store,
            pool,
            seeds,
            dataset,
            seed_split=seed_split,
            target_precision=precision,
            judge_client=client,
            balance=balance,
            accept_lower=accept_lower,
            datasets=runtime().datasets,
        )
    out.print_json(json.dumps(summary))


def register(app: typer.Typer) -> None:
    app.command("ground")(ground)
    app.command("pseudo-label")(pseudo_label)
