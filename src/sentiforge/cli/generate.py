"""``sentiforge generate`` / ``run`` / ``resume`` / ``jobs``: making synthetic data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from sentiforge.cli._common import DbOption, MaxCostOpt, console, open_store, out, run_job, with_backend_options
from sentiforge.engine import create_job
from sentiforge.errors import ConfigError
from sentiforge.recipe import BackendSpec, Recipe, StepSpec
from sentiforge.strategies.generate import DEFAULT_KIND_OF_TEXT


def _parse_attributes(values: list[str]) -> dict[str, list[str]]:
    attrs: dict[str, list[str]] = {}
    for item in values:
        if "=" not in item:
            raise ConfigError(f"--attr takes NAME=VALUE1|VALUE2, got {item!r}")
        name, _, vals = item.partition("=")
        attrs[name.strip()] = [v.strip() for v in vals.split("|") if v.strip()]
    return attrs


def register(app: typer.Typer) -> None:
    @app.command()
    @with_backend_options
    def generate(
        dataset: Annotated[str, typer.Option("--dataset", "-d", help="Name of the synthetic dataset to fill.")],
        count: Annotated[int, typer.Option("--count", "-n", min=1)] = 30,
        scheme: Annotated[str, typer.Option(help="Label scheme name or a .yaml/.json scheme file.")] = "three_class",
        kind_of_text: Annotated[str, typer.Option("--text-kind")] = DEFAULT_KIND_OF_TEXT,
        attr: Annotated[list[str], typer.Option("--attr", help="Prompt attribute, e.g. domain='bank|telecom'.")] = [],  # noqa: B006
        length: Annotated[list[str], typer.Option(help="short, medium or long (repeatable)")] = ["short"],  # noqa: B006
        balance_attributes: bool = False,
        few_shot: Annotated[int, typer.Option(min=0, max=3)] = 2,
        seeds: Annotated[str | None, typer.Option(help="Real dataset for few-shot examples (train split).")] = None,
        seed_split: str = "train",
        temperature: float = 0.9,
        rationale: Annotated[bool, typer.Option(help="Ask for a short rationale per sample.")] = False,
        language: str = "en",
        max_cost: MaxCostOpt = None,
        seed: int = 0,
        save_recipe: Annotated[Path | None, typer.Option(help="Also write the recipe as JSON here.")] = None,
        db: DbOption = None,
        *,
        spec: BackendSpec,
    ) -> None:
        """Generate a balanced, labelled synthetic dataset from scratch."""
        recipe = Recipe(
            name=f"generate-{dataset}",
            scheme=scheme,
            language=language,
            seed=seed,
            seeds=seeds,
            seed_split=seed_split,
            max_cost=max_cost,
            backend=spec,
            steps=[
                StepSpec(
                    strategy="generate",
                    params={
                        "count": count,
                        "kind_of_text": kind_of_text,
                        "attributes": _parse_attributes(attr),
                        "lengths": length,
                        "balance_attributes": balance_attributes,
                        "few_shot": few_shot,
                        "temperature": temperature,
                        "rationale": rationale,
                    },
                )
            ],
        )
        if save_recipe:
            save_recipe.write_text(json.dumps(recipe.dump(), indent=2))
        store = open_store(db)
        job_id = create_job(store, recipe, dataset)
        console.print(f"job {job_id} created for dataset '{dataset}' (resume with: sentiforge resume {job_id})")
        result = run_job(db, job_id)
        if result.status not in {"completed"}:
            raise typer.Exit(1)

    @app.command()
    def run(
        recipe_file: Annotated[Path, typer.Argument(help="Recipe as .yaml or .json")],
        dataset: Annotated[str, typer.Option("--dataset", "-d")],
        db: DbOption = None,
    ) -> None:
        """Run a recipe file into a dataset."""
        recipe = Recipe.load(recipe_file)
        store = open_store(db)
        job_id = create_job(store, recipe, dataset)
        console.print(f"job {job_id} created (resume with: sentiforge resume {job_id})")
        if run_job(db, job_id).status != "completed":
            raise typer.Exit(1)

    @app.command()
    def resume(
        job_id: int,
        max_cost: Annotated[float | None, typer.Option(help="New budget cap in USD")] = None,
        db: DbOption = None,
    ) -> None:
        """Resume a job that stopped (crash, budget, Ctrl-C): filled slots are kept, cached answers reused."""
        if max_cost is not None:
            store = open_store(db)
            recipe = Recipe.model_validate(store.job(job_id).recipe)
            store.update_job(job_id, recipe=recipe.model_copy(update={"max_cost": max_cost}).dump())
        if run_job(db, job_id).status != "completed":
            raise typer.Exit(1)

    @app.command()
    def jobs(db: DbOption = None, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
        """List jobs with their progress, tokens and cost."""
        from rich.table import Table

        rows = open_store(db).list_jobs()
        if as_json:
            out.print_json(
                json.dumps(
                    [
                        {
                            "id": j.id,
                            "dataset_id": j.dataset_id,
                            "status": j.status,
                            "done": j.done,
                            "target": j.target,
                            "rejected": j.rejected,
                            "requests": j.requests,
                            "cache_hits": j.cache_hits,
                            "cost": j.cost,
                            "error": j.error,
                        }
                        for j in rows
                    ]
                )
            )
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
