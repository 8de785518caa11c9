"""``sentiforge augment`` and ``sentiforge mix``: grow real seeds, then cap the synthetic share."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from sentiforge.cli._common import DbOption, MaxCostOpt, console, open_store, out, with_backend_options
from sentiforge.cli._common import run_job as run_job_with_progress
from sentiforge.engine import JobResult, create_job
from sentiforge.errors import ConfigError
from sentiforge.recipe import BackendSpec, Recipe, StepSpec

AUGMENTERS = ("extract_aspects", "cda", "ada", "cada", "backtranslate", "translate")


def step_params(
    strategy: str,
    *,
    per_seed: int,
    rationale: bool,
    judge: bool,
    routes: list[str],
    engine: str,
    target: str | None,
    temperature: float | None,
) -> dict[str, Any]:
    """The recipe step for one strategy from the command's options (only what applies to it)."""
    if strategy not in AUGMENTERS:
        raise ConfigError(f"unknown augmentation strategy {strategy!r}; choose from {list(AUGMENTERS)}")
    if strategy == "extract_aspects":
        return {}
    if strategy == "translate":
        if not target:
            raise ConfigError("strategy 'translate' needs --target LANG (e.g. --target fr)")
        return {"target": target, "engine": engine}
    check = "judge" if judge else "off"
    params: dict[str, Any] = {"per_seed": per_seed, "rationale": rationale, "check_polarity": check}
    if strategy == "backtranslate":
        params |= {"routes": routes or ["fr"], "engine": engine}
    if temperature is not None:
        params["temperature"] = temperature
    return params


def run_job(db: str | None, job_id: int) -> JobResult:
    """Run a job with a progress bar. ``--backend fake`` gets the scripted augmentation fake
    (a dry run that exercises every check without a model)."""
    from sentiforge.backends import FakeBackend, from_spec
    from sentiforge.testing.augmenter import ScriptedAugmenter

    store = open_store(db)
    recipe = Recipe.model_validate(store.job(job_id).recipe)
    backend = FakeBackend(responder=ScriptedAugmenter()) if recipe.backend.kind == "fake" else from_spec(recipe.backend)
    return run_job_with_progress(db, job_id, backend=backend)


def register(app: typer.Typer) -> None:
    @app.command()
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
        save_recipe: Annotated[Path | None, typer.Option(help="Also write the recipe as JSON here.")] = None,
        db: DbOption = None,
        *,
        spec: BackendSpec,
    ) -> None:
        """Augment real seeds (CDA, ADA, CADA, backtranslation, translation); every output points at its seed."""
        store = open_store(db)
        scheme = store.scheme(seeds)
        first = next(iter(store.iter_samples(store.dataset_id(seeds), split=seed_split or None)), None)
        if first is None:
            raise ConfigError(
                f"dataset '{seeds}' has no accepted samples in split '{seed_split}'; "
                "import seeds with a train split or pass --seed-split"
            )
        steps = [
            StepSpec(
                strategy=name,
                params=step_params(
                    name,
                    per_seed=per_seed,
                    rationale=rationale,
                    judge=judge,
                    routes=route,
                    engine=engine,
                    target=target,
                    temperature=temperature,
                ),
            )
            for name in strategy
        ]
        recipe = Recipe(
            name=f"augment-{dataset}",
            scheme=scheme.model_dump(mode="json"),
            language=language or first.language,
            seed=seed,
            seeds=seeds,
            seed_split=seed_split or None,
            max_cost=max_cost,
            max_attempts=max_attempts,
            backend=spec,
            steps=steps,
        )
        if save_recipe:
            save_recipe.write_text(json.dumps(recipe.dump(), indent=2))
        job_id = create_job(store, recipe, dataset)
        console.print(f"job {job_id} created for dataset '{dataset}' (resume with: sentiforge resume {job_id})")
        if run_job(db, job_id).status != "completed":
            raise typer.Exit(1)

    @app.command()
    def mix(
        real: Annotated[str, typer.Option(help="Real dataset (its --real-split samples all go in).")],
        synthetic: Annotated[list[str], typer.Option(help="Synthetic/augmented dataset (repeatable).")],
        out_name: Annotated[str, typer.Option("--out", help="Name of the mixed dataset to create.")],
        max_synthetic_share: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.6,
        real_split: str = "train",
        seed: int = 0,
        fill_spare: Annotated[
            bool,
            typer.Option(
                help="Give unused quota to labels with more synthetic samples (shifts the label distribution)."
            ),
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
