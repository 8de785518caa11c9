"""``sentiforge train`` and ``sentiforge predict``: a saved classifier from a dataset, and its answers."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from sentiforge.cli._common import DbOption, console, out
from sentiforge.samples import Sample, text_hash


def fingerprint(samples: Sequence[Sample]) -> str:
    """An id for a training set's content: order-free hash of its texts and targets."""
    h = hashlib.blake2b(digest_size=12)
    for key in sorted(f"{text_hash(s.text)}:{s.target()}" for s in samples):
        h.update(key.encode())
    return h.hexdigest()


def train_and_score(
    samples: list[Sample], scheme: Any, kind: str, params: dict[str, Any], *, evaluate: bool, seed: int
) -> tuple[Any, dict[str, Any], int]:
    """Train on the train split (or 80% when unsplit) and score the held-out part."""
    from sentiforge.classifiers import train
    from sentiforge.classifiers.base import encode_targets, targets_of
    from sentiforge.evaluation import metrics
    from sentiforge.io.splits import presplit, split_real

    if not evaluate:
        return train(samples, scheme, kind, **params), {}, len(samples)
    parts = presplit(samples)
    fit_on, test = parts if parts else split_real(samples, holdout=0.2, seed=seed)
    clf = train(fit_on, scheme, kind, **params)
    texts = [s.text for s in test]
    y_true = encode_targets(targets_of(test, scheme), scheme)
    scores = metrics.scores(y_true, encode_targets(clf.predict(texts), scheme), clf.predict_proba(texts), scheme)
    return clf, {"holdout": scores}, len(fit_on)


def register(app: typer.Typer) -> None:
    @app.command("train")
    def train_cmd(
        dataset: Annotated[
            str, typer.Argument(help="A dataset name, a .csv/.jsonl/.parquet file, or vader:tweets / uci:yelp.")
        ],
        out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder to save the model in.")],
        classifier: Annotated[
            str, typer.Option("--classifier", "-c", help="tfidf, embedding or transformer.")
        ] = "tfidf",
        scheme: Annotated[str | None, typer.Option(help="Label scheme (default: the dataset's own).")] = None,
        epochs: Annotated[int, typer.Option(help="Transformer: fine-tuning epochs.", min=1)] = 3,
        max_len: Annotated[int, typer.Option(help="Transformer: longest input in tokens.", min=8)] = 128,
        class_weight: Annotated[str | None, typer.Option(help="'balanced' to weight rare labels up.")] = None,
        evaluate: Annotated[
            bool, typer.Option(help="Score on the holdout/test split (or 20%) and store the metrics.")
        ] = True,
        seed: int = 0,
        db: DbOption = None,
    ) -> None:
        """Train a classifier and save it (JSON metadata + safe weights) for `predict` and the service."""
        from sentiforge.evaluation.inputs import load_samples

        samples, sch = load_samples(dataset, scheme, db=db)
        samples = [s for s in samples if s.status == "accepted"]
        params: dict[str, Any] = {"class_weight": class_weight} if class_weight else {}
        if classifier == "transformer":
            params.update(epochs=epochs, max_len=max_len)
        clf, scores, n = train_and_score(samples, sch, classifier, params, evaluate=evaluate, seed=seed)
        clf.info.training_data.update(source=dataset, fingerprint=fingerprint(samples))
        clf.info.metrics = scores
        folder = clf.save(out_dir)
        console.print(f"trained {classifier} on {n} samples; saved to {folder}")
        if scores:
            h = scores["holdout"]
            out.print(f"holdout ({h['n']}): accuracy {h['accuracy']:.3f}, macro-F1 {h['macro_f1']:.3f}")

    @app.command()
    def predict(
        model_dir: Annotated[Path, typer.Argument(help="A folder saved by `sentiforge train`.")],
        texts: Annotated[list[str] | None, typer.Argument(help="Texts to classify.")] = None,
        file: Annotated[Path | None, typer.Option(help="A text file, one input per line.")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    ) -> None:
        """Label texts with a saved classifier."""
        from sentiforge.classifiers import load_classifier
        from sentiforge.errors import ConfigError, DataError

        items = list(texts or [])
        if file is not None:
            try:
                items += [line.strip() for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
            except OSError as exc:
                raise DataError(f"cannot read {file}: {exc}") from exc
        if not items:
            raise ConfigError("give texts to classify as arguments or with --file")
        clf = load_classifier(model_dir)
        proba = clf.predict_proba(items)
        for text, label, row in zip(items, clf.predict(items), proba, strict=True):
            scores = {lab: round(float(p), 4) for lab, p in zip(clf.scheme.labels, row, strict=True)}
            if as_json:
                typer.echo(json.dumps({"text": text, "label": label, "scores": scores}, ensure_ascii=False))
            else:
                shown = "+".join(label) if isinstance(label, list) else label
                out.print(f"{shown}\t{max(scores.values()):.2f}\t{text}", highlight=False)
