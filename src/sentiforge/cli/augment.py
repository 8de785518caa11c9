"""``sentiforge augment`` and ``sentiforge mix``: grow real seeds, then cap the synthetic share."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from sentiforge.app.requests import AUGMENTERS, AugmentRequest
from sentiforge.cli._common import (
    DbOption,
    FreshOpt,
    MaxCostOpt,
    TemplatesOpt,
    console,
    open_store,
    out,
    request_from,
    runtime,
    submit_and_run,
    with_backend_options,
)
from sentiforge.cli.generate import save_recipe_file
from sentiforge.recipe import BackendSpec


@with_backend_options
def augment(
    seeds: Annotated[str, typer.Option(help="Real dataset to augment (its train split is used).")],
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="Name of the augmented dataset to fill.")],
    strategy: Annotated[list[str], typer.Option(help=f"One of {', '.join(AUGMENTERS)} (repeatable).")] = ["cada"],  # noqa: B006
    per_seed: Annotated[int, typer.Option(min=1, help="Samples per seed and strategy.")] = 2,
    rationale: Annotated[bool, typer.Option(help="Ask for a short rationale per sample.")] = False,
    judge: Annotated[bool, typer.Option(help="Check polarity with a label-constrained judge.")] = True,
    route: Annotated[list[str], typer.Option(help="Backtranslation pivots, e.g. fr or es>fr (repeatable).")] = [],  # noqa: B006
    engine: Annotated[str, typer.Option(help="Translation engine: llm or apertium.")] = "llm",
    target: Annotated[str | None, typer.Option(help="Target language of --strategy translate.")] = None,
    temperature: float | None = None,
    seed_split: str = "train",
    language: Annotated[str | None, typer.Option(help="Language of the seeds (default: read from them).")] = None,
    max_cost: MaxCostOpt = None,
    max_attempts: Annotated[int, typer.Option(min=1, max=50)] = 3,
    seed: int = 0,
    fresh: FreshOpt = False,
    templates: TemplatesOpt = None,
    save_recipe: Annotated[Path | None, typer.Option(help="Also write the recipe as JSON here.")] = None,
    db: DbOption = None,
    *,
    spec: BackendSpec,
) -> None:
    """Augment real seeds (CDA, ADA, CADA, backtranslation, translation); every output points at its seed.

    With --backend fake, a scripted model answers the augmentation prompts (a dry run through every check)."""
    request = request_from(AugmentRequest, locals(), strategies="strategy", routes="route", backend="spec")
    with open_store(db) as store:
        save_recipe_file(request.to_recipe(store, templates_dir=runtime().templates_dir), save_recipe)
        submit_and_run(store, request)


def mix(
    real: Annotated[str, typer.Option(help="Real dataset (its --real-split samples all go in).")],
    synthetic: Annotated[list[str], typer.Option(help="Synthetic/augmented dataset (repeatable).")],
    out_name: Annotated[str, typer.Option("--out", help="Name of the mixed dataset to create.")],
    max_synthetic_share: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.6,
    real_split: str = "train",
    seed: int = 0,
    fill_spare: Annotated[
        bool,
        typer.Option(help="Give unused quota to labels with more synthetic samples (shifts the label distribution)."),
    ] = False,
    export: Annotated[Path | None, typer.Option(help="Also export the mixed set to this folder.")] = None,
    export_format: Annotated[str, typer.Option("--format")] = "jsonl",
    db: DbOption = None,
) -> None:
    """Real + synthetic with the synthetic share capped; the share goes into the metadata."""
    from sentiforge.mixing import mix as do_mix

    store = open_store(db)
    report = do_mix(
        store,
        real,
        synthetic,
        out_name,
        max_synthetic_share=max_synthetic_share,
        seed=seed,
        real_split=real_split or None,
        fill=fill_spare,
    )
    console.print(
        f"'{out_name}': {report.real} real + {report.synthetic} synthetic "
        f"(share {report.synthetic_share:.1%}, cap {report.max_synthetic_share:.0%}, "
        f"{report.available_synthetic} available)"
    )
    if export:
        from sentiforge.io.exporters import export_dataset

        result = export_dataset(
            store,
            out_name,
            export,
            format=export_format,  # type: ignore[arg-type]
            extra_metadata={"mix": report.as_dict()},
        )
        console.print(f"exported to {result.out} (metadata: {result.metadata_path})")
    out.print_json(json.dumps(report.as_dict()))


def register(app: typer.Typer) -> None:
    app.command()(augment)
    app.command()(mix)
