"""``sentiforge train`` and ``sentiforge predict``: a saved classifier from a dataset, and its answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from sentiforge.cli._common import DbOption, console, database_url, out, request_from, runtime


def train_cmd(
    dataset: Annotated[
        str, typer.Argument(help="A dataset name, a .csv/.jsonl/.parquet file, or vader:tweets / uci:yelp.")
    ],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder to save the model in.")],
    classifier: Annotated[
        str, typer.Option("--classifier", "-c", help="tfidf, embedding, transformer, contrastive or reasoner.")
    ] = "tfidf",
    scheme: Annotated[str | None, typer.Option(help="Label scheme (default: the dataset's own).")] = None,
    epochs: Annotated[int, typer.Option(help="Transformer: fine-tuning epochs.", min=1)] = 3,
    max_len: Annotated[int, typer.Option(help="Transformer: longest input in tokens.", min=8)] = 128,
    class_weight: Annotated[str | None, typer.Option(help="'balanced' to weight rare labels up.")] = None,
    embedder: Annotated[
        str,
        typer.Option(help="Embedding: the sentence body, minilm, multilingual or both joined (minilm+multilingual)."),
    ] = "auto",
    evaluate: Annotated[
        bool, typer.Option(help="Score on the holdout/test split (or 20%) and store the metrics.")
    ] = True,
    base_model: Annotated[
        str, typer.Option(help="Reasoner: gemma-3-270m, qwen2.5-0.5b, a .gguf file or a local HF folder.")
    ] = "gemma-3-270m",
    full_finetune: Annotated[bool, typer.Option(help="Reasoner: tune all weights instead of LoRA.")] = False,
    rationale_model: Annotated[
        str | None,
        typer.Option(help="Reasoner: write missing rationales first with this embedded model (e.g. qwen2.5-1.5b)."),
    ] = None,
    seed: int = 0,
    db: DbOption = None,
) -> None:
    """Train a classifier and save it (JSON metadata + safe weights) for `predict` and the service."""
    from sentiforge.app.requests import TrainRequest
    from sentiforge.app.training import train
    from sentiforge.recipe import BackendSpec

    rationale_backend = BackendSpec(kind="embedded", model=rationale_model) if rationale_model else None
    request = request_from(TrainRequest, locals())
    trained = train(request, db=database_url(db), runtime=runtime())
    console.print(f"trained {classifier} on {trained.trained_on} samples; saved to {trained.folder}")
    if trained.metrics:
        h = trained.metrics["holdout"]
        out.print(f"holdout ({h['n']}): accuracy {h['accuracy']:.3f}, macro-F1 {h['macro_f1']:.3f}")


def predict(
    model_dir: Annotated[Path, typer.Argument(help="A folder saved by `sentiforge train`.")],
    texts: Annotated[list[str] | None, typer.Argument(help="Texts to classify.")] = None,
    file: Annotated[Path | None, typer.Option(help="A text file, one input per line.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Label texts with a saved classifier."""
    from sentiforge.classifiers import load_classifier
    from sentiforge.config import get_settings
    from sentiforge.errors import ConfigError, DataError

    items = list(texts or [])
    if file is not None:
        from sentiforge.io.importers import decoded_lines

        try:  # lines end at \n only: a U+2028 inside a text stays in it
            items += [line.strip() for line in decoded_lines(file, "utf-8") if line.strip()]
        except OSError as exc:
            raise DataError(f"cannot read {file}: {exc}") from exc
    if not items:
        raise ConfigError("give texts to classify as arguments or with --file")
    base_models = get_settings().model_dir  # where a reasoner's packaged base model is joined
    for answer in answers(load_classifier(model_dir, base_model_dir=base_models), items):
        if as_json:
            typer.echo(json.dumps(answer, ensure_ascii=False))
        else:
            label = answer["label"]
            shown = "+".join(label) if isinstance(label, list) else label
            why = f"\t{answer['rationale']}" if answer.get("rationale") else ""
            out.print(f"{shown}\t{max(answer['scores'].values()):.2f}\t{answer['text']}{why}", highlight=False)


def answers(clf: Any, items: list[str]) -> list[dict[str, Any]]:
    """Label and scores per text, plus the rationale from classifiers that write one."""
    from sentiforge.classifiers.base import predict_all

    labels, proba, rationales = predict_all(clf, items)
    out = []
    for i, (text, label, row) in enumerate(zip(items, labels, proba, strict=True)):
        answer = {
            "text": text,
            "label": label,
            "scores": {k: round(float(p), 4) for k, p in zip(clf.scheme.labels, row, strict=True)},
        }
        out.append(answer | ({"rationale": rationales[i]} if rationales is not None else {}))
    return out


def register(app: typer.Typer) -> None:
    app.command("train")(train_cmd)
    app.command()(predict)
