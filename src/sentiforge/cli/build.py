"""``sentiforge build``: the best model for a few labelled seeds, chosen by cross-validation on them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from sentiforge.cli._common import DbOption, console, database_url, out, progress_bar, request_from, runtime
from sentiforge.progress import Update


def build_cmd(
    seeds: Annotated[
        str, typer.Argument(help="Labelled seeds: a dataset name, a .csv/.jsonl/.parquet file, or vader:* / uci:*.")
    ],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder to save the built model (and its report) in.")],
    pool: Annotated[
        str | None, typer.Option(help="Unlabelled in-domain texts: a dataset (`sentiforge ground`) or a file.")
    ] = None,
    synthetic: Annotated[
        list[str] | None, typer.Option(help="A generated or augmented dataset to try (repeatable).")
    ] = None,
    generate: Annotated[int, typer.Option(help="Generation budget (build does not generate; see the message).")] = 0,
    scheme: Annotated[str | None, typer.Option(help="Label scheme (default: the dataset's own).")] = None,
    seed_split: Annotated[str | None, typer.Option(help="The seeds' split, when the dataset has splits.")] = "train",
    language: Annotated[str, typer.Option(help="Language of the texts (auto: detect it).")] = "auto",
    classifiers: Annotated[
        str, typer.Option("--classifiers", "-c", help="Candidate kinds, comma-separated (reasoner on request).")
    ] = "tfidf,embedding,contrastive,transformer",
    folds: Annotated[int, typer.Option(help="Cross-validation folds on the seeds.", min=2, max=10)] = 5,
    pseudo_precision: Annotated[float, typer.Option(help="Precision the pseudo-labels' thresholds aim at.")] = 0.9,
    synthetic_cap: Annotated[float, typer.Option(help="At most this many synthetic samples per seed.")] = 1.0,
    self_training: Annotated[bool, typer.Option(help="Try a second round on the leader's own pool labels.")] = True,
    max_minutes: Annotated[
        float, typer.Option(help="Time budget; slow candidates that do not fit are skipped.")
    ] = 15.0,
    seed: int = 0,
    db: DbOption = None,
) -> None:
    """Build the best classifier for labelled seeds: candidate training sets and classifiers,
    chosen by k-fold cross-validation on the seeds alone; the winner is saved with its report."""
    from sentiforge.app.build import BuildRequest, build

    synthetic = synthetic or []
    request = request_from(BuildRequest, locals())
    with progress_bar("build", 1) as bar:
        task = bar.task_ids[0]

        def progress(update: Update) -> None:
            bar.update(task, completed=update.done, total=max(update.total, 1), extra=update.stage[:60])

        built = build(request, db=database_url(db), runtime=runtime(), progress=progress)
    print_built(built)


def print_built(built: Any) -> None:
    """The winner, every candidate with its interval, each source's verdict, what was skipped."""
    from sentiforge.app.build_report import pseudo_note, verdict

    winner = built.winner
    console.print(
        f"built {winner['candidate']}: cross-validated macro-F1 {winner['macro_f1']:.3f} "
        f"[{winner['interval'][0]:.3f}, {winner['interval'][1]:.3f}] on {built.seeds} seeds "
        f"in {built.seconds / 60:.1f} min; saved to {built.folder}"
    )
    for c in built.candidates:
        low, high = c["interval"]
        tied = " (tied with the best)" if c.get("tied_with_best") else ""
        out.print(f"{c['macro_f1']:.3f} [{low:.3f}, {high:.3f}]  {c['candidate']}{tied}", highlight=False)
    for name, info in built.contributions.items():
        said = verdict(name, info, winner)
        out.print(f"source {name}: {said} (best gain {info['best_gain']:+.3f})", highlight=False)
    for s in built.skipped:
        out.print(f"{'stopped' if s.get('stopped') else 'skipped'} {s['candidate']}: {s['why']}", highlight=False)
    console.print(pseudo_note(built.pseudo_labels))
    console.print(f"report: {built.report.get('html')}")


def register(app: typer.Typer) -> None:
    app.command("build")(build_cmd)
