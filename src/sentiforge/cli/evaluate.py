"""``sentiforge evaluate``: Train-Synthetic-Test-Real with numbers and pictures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sentiforge.cli._common import DbOption, console, database_url, out, request_from, runtime

if TYPE_CHECKING:
    from sentiforge.evaluation.tstr import TSTRResult


Classifiers = Annotated[
    list[str],
    typer.Option(
        "--classifier",
        "--classifiers",
        "-c",
        help="tfidf, embedding, transformer, contrastive or reasoner (repeatable, or comma-separated).",
    ),
]
Epochs = Annotated[
    int | None,
    typer.Option(
        help="Transformer and reasoner: fine-tuning epochs (default 3; the transformer's cpu preset: 1).", min=1
    ),
]
Preset = Annotated[
    str,
    typer.Option(
        help="Transformer: auto (cpu without a GPU), cpu (64 tokens, 1 epoch, lower layers frozen, "
        "at most 2,000 training texts: minutes on a CPU) or full."
    ),
]


def evaluate(
    real: Annotated[
        str, typer.Option(help="Real data: vader:tweets, uci:yelp, a .csv/.jsonl/.parquet file or a dataset name.")
    ],
    synthetic: Annotated[str, typer.Option(help="Synthetic data: a dataset name or a file.")],
    holdout: Annotated[
        str | None,
        typer.Option(
            help="A separate real holdout (default: the real data's stored holdout/test split, else a fresh split)."
        ),
    ] = None,
    scheme: Annotated[str | None, typer.Option(help="Label scheme (default: the dataset's own).")] = None,
    classifier: Classifiers = ["tfidf"],  # noqa: B006
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for report.html, report.json, figures.json.")
    ] = Path("sentiforge-report"),
    holdout_fraction: Annotated[float, typer.Option(min=0.05, max=0.9)] = 0.3,
    cap: Annotated[
        float, typer.Option(help="Largest synthetic share of the mixed training set.", min=0.0, max=0.95)
    ] = 0.6,
    bootstrap: Annotated[int, typer.Option(help="Bootstrap resamples for intervals (0: none).", min=0)] = 1000,
    cv: Annotated[int, typer.Option(help="Cross-validation folds within each training set (0: skip).", min=0)] = 5,
    embedder: Annotated[str, typer.Option(help="auto, minilm, multilingual, fake or none.")] = "auto",
    on_leak: Annotated[
        str, typer.Option(help="drop: remove training items that copy the holdout; error: refuse.")
    ] = "drop",
    epochs: Epochs = None,
    transformer_preset: Preset = "auto",
    base_model: Annotated[
        str, typer.Option(help="Reasoner: gemma-3-270m, qwen2.5-0.5b, a .gguf file or a local HF folder.")
    ] = "gemma-3-270m",
    seed: int = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the headline numbers as JSON.")] = False,
    db: DbOption = None,
) -> None:
    """Train the same classifier on real, synthetic and mixed data; score each on real holdout data."""
    from sentiforge.app.requests import EvaluateRequest
    from sentiforge.app.training import evaluate as run

    request = request_from(EvaluateRequest, locals(), classifiers="classifier")
    say = lambda update: console.print(f"[dim]{update.stage}...[/dim]")  # noqa: E731
    ev = run(request, db=database_url(db), runtime=runtime(), progress=say)
    paths = ev.write(out_dir)
    if as_json:
        out.print_json(json.dumps({k: _summary(r) for k, r in ev.tstr.items()}))
    else:
        out.print(ev.headline())
    console.print(f"report: {paths['html']}  (numbers: {paths['json']})")


def _summary(r: TSTRResult) -> dict[str, object]:
    from sentiforge.evaluation.report import json_safe

    s = r.settings
    return json_safe(
        {
            "metric": r.metric,
            "ratio": r.ratio,
            "ratio_ci": r.ratio_ci,
            **{
                k: {"macro_f1": v.scores["macro_f1"], "accuracy": v.scores["accuracy"], "train_size": v.train_size}
                for k, v in s.items()
            },
        }
    )


def register(app: typer.Typer) -> None:
    app.command()(evaluate)
