"""``sentiforge generate`` / ``run`` / ``resume`` / ``cancel`` / ``jobs``: making synthetic data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from sentiforge.app import jobs
from sentiforge.app.requests import GenerateRequest, RecipeRequest
from sentiforge.cli._common import (
    DbOption,
    FreshOpt,
    MaxCostOpt,
    TemplatesOpt,
    console,
    open_store,
    out,
    request_from,
    run_job,
    runtime,
    submit_and_run,
    with_backend_options,
)
from sentiforge.errors import ConfigError
from sentiforge.recipe import BackendSpec, Recipe
from sentiforge.strategies.generate import DEFAULT_KIND_OF_TEXT


def parse_attributes(values: list[str]) -> dict[str, list[str]]:
    """``--attr NAME=VALUE1|VALUE2`` options as {name: [values]}; any name is allowed."""
    attrs: dict[str, list[str]] = {}
    for item in values:
        name, sep, vals = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise ConfigError(
                f"--attr takes NAME=VALUE1|VALUE2 with NAME a word like topic or issue_type, got {item!r}"
            )
        attrs[name] = [v.strip() for v in vals.split("|") if v.strip()]
        if not attrs[name]:
            raise ConfigError(f"--attr {name}= has no values; give NAME=VALUE1|VALUE2")
    return attrs


def save_recipe_file(recipe: Recipe, path: Path | None) -> None:
    if path:
        path.write_text(json.dumps(recipe.dump(), indent=2))


@with_backend_options
def generate(
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="Name of the synthetic dataset to fill.")],
    count: Annotated[int, typer.Option("--count", "-n", min=1)] = 30,
    scheme: Annotated[str, typer.Option(help="Label scheme name or a .yaml/.json scheme file.")] = "three_class",
    kind_of_text: Annotated[str, typer.Option("--text-kind")] = DEFAULT_KIND_OF_TEXT,
    attr: Annotated[
        list[str],
        typer.Option("--attr", help="Prompt attribute (any name), e.g. domain='bank|telecom'"),
    ] = [],  # noqa: B006
    length: Annotated[list[str], typer.Option(help="short, medium or long (repeatable)")] = ["short"],  # noqa: B006
    balance_attributes: bool = False,
    few_shot: Annotated[int, typer.Option(min=0, max=3)] = 2,
    seeds: Annotated[str | None, typer.Option(help="Real dataset for few-shot examples (train split).")] = None,
    seed_split: str = "train",
    pool: Annotated[
        str | None, typer.Option(help="Ground prompts on a clustered unlabelled pool (`sentiforge ground`).")
    ] = None,
    temperature: float = 0.9,
    rationale: Annotated[bool, typer.Option(help="Ask for a short rationale per sample.")] = False,
    match_style: Annotated[
        bool, typer.Option(help="Lengths and habits (@mentions, #tags, lower case...) of the seeds; needs --seeds.")
    ] = False,
    avoid_word: Annotated[
        list[str], typer.Option("--avoid-word", help="An over-used word to avoid (repeatable).")
    ] = [],  # noqa: B006
    check_label: Annotated[
        str, typer.Option(help="auto (judge on the embedded model), judge or off: must the judge read the label?")
    ] = "auto",
    language: Annotated[
        str | None, typer.Option(help="Language of the prompts (default: the seeds' own, else en).")
    ] = None,
    max_cost: MaxCostOpt = None,
    seed: int = 0,
    fresh: FreshOpt = False,
    templates: TemplatesOpt = None,
    save_recipe: Annotated[Path | None, typer.Option(help="Also write the recipe as JSON here.")] = None,
    db: DbOption = None,
    *,
    spec: BackendSpec,
) -> None:
    """Generate a balanced, labelled synthetic dataset from scratch."""
    options = locals() | {"attributes": parse_attributes(attr)}
    request = request_from(GenerateRequest, options, lengths="length", backend="spec", avoid_words="avoid_word")
    save_recipe_file(request.to_recipe(templates_dir=runtime().templates_dir), save_recipe)
    with open_store(db) as store:
        submit_and_run(store, request)


def run(
    recipe_file: Annotated[Path, typer.Argument(help="Recipe as .yaml or .json")],
    dataset: Annotated[str, typer.Option("--dataset", "-d")],
    fresh: FreshOpt = False,
    db: DbOption = None,
) -> None:
    """Run a recipe file into a dataset."""
    recipe = Recipe.load(recipe_file)
    request = RecipeRequest(dataset=dataset, recipe=recipe.model_copy(update={"fresh": fresh or recipe.fresh}))
    with open_store(db) as store:
        submit_and_run(store, request)


def resume(
    job_id: int,
    max_cost: Annotated[float | None, typer.Option(help="New budget cap in USD")] = None,
    db: DbOption = None,
) -> None:
    """Resume a job that stopped (crash, budget, Ctrl-C, cancel): filled slots are kept, cached answers reused."""
    with open_store(db) as store:
        if max_cost is not None:
            jobs.set_budget(store, job_id, max_cost)
        jobs.requeue(store, job_id)
        if run_job(store, job_id).status != "completed":
            raise typer.Exit(1)


def cancel(job_id: int, db: DbOption = None) -> None:
    """Stop a job, from any process: a running one at its next slot boundary. `resume` finishes it later."""
    with open_store(db) as store:
        job = jobs.cancel(store, job_id)
    if job.status == "running":
        console.print(f"job {job_id}: cancel asked; it stops after the slots in flight ({job.done}/{job.target})")
    else:
        console.print(f"job {job_id}: cancelled at {job.done}/{job.target} (resume with: sentiforge resume {job_id})")


def list_jobs(
    status: Annotated[str | None, typer.Option(help="Only jobs with this status.")] = None,
    dataset: Annotated[str | None, typer.Option(help="Only jobs filling this dataset.")] = None,
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List jobs with their progress, tokens and cost."""
    from rich.table import Table

    with open_store(db) as store:
        rows = jobs.list_jobs(store, status=status, dataset=dataset)
    if as_json:
        fields = {"id", "dataset_id", "status", "done", "target", "rejected", "requests", "cache_hits", "cost"}
        out.print_json(json.dumps([j.model_dump(mode="json", include=fields | {"error"}) for j in rows]))
        return
    table = Table("id", "dataset", "status", "done/target", "rejected", "requests", "cached", "tokens", "cost $")
    for j in rows:
        table.add_row(
            str(j.id),
            str(j.dataset_id),
            j.status,
            f"{j.done}/{j.target}",
            str(j.rejected),
            str(j.requests),
            str(j.cache_hits),
            str(j.prompt_tokens + j.completion_tokens),
            f"{j.cost:.4f}",
        )
    out.print(table)


def register(app: typer.Typer) -> None:
    app.command()(generate)
    app.command()(run)
    app.command()(resume)
    app.command()(cancel)
    app.command("jobs")(list_jobs)
