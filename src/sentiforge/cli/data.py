"""``sentiforge import`` / ``export`` / ``datasets`` / ``show`` / ``delete``: data in and out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from sentiforge.cli._common import DbOption, console, open_store, out


def _import(
    file: Annotated[Path, typer.Argument(help="A .csv, .tsv, .jsonl or .parquet file.")],
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="Dataset to create (or add to).")],
    scheme: Annotated[
        str | None,
        typer.Option(help="Label scheme name or a .yaml/.json scheme file (default: the dataset's, else three_class)."),
    ] = None,
    text_col: Annotated[str, typer.Option(help="Column with the text.")] = "text",
    label_col: Annotated[str | None, typer.Option(help="Label column (default: label, labels or aspects).")] = None,
    language_col: Annotated[str | None, typer.Option(help="Column with a language code per row.")] = None,
    split_col: Annotated[str | None, typer.Option(help="Column with train/validation/test per row.")] = None,
    rationale_col: Annotated[str | None, typer.Option(help="Column with a rationale per row.")] = None,
    attr_col: Annotated[list[str], typer.Option("--attr-col", help="Column kept as an attribute (repeatable).")] = [],  # noqa: B006
    language: Annotated[str, typer.Option(help="Language of every row when there is no language column.")] = "en",
    splits: Annotated[
        str | None, typer.Option(help="Draw stratified splits, e.g. 0.8,0.1,0.1 or train=0.8,holdout=0.2.")
    ] = None,
    seed: int = 0,
    file_format: Annotated[str | None, typer.Option("--format", help="csv, jsonl or parquet (default: suffix)")] = None,
    delimiter: Annotated[str | None, typer.Option(help="CSV delimiter (default , or tab for .tsv).")] = None,
    encoding: str = "utf-8",
    db: DbOption = None,
) -> None:
    """Import real, labelled data into a dataset: all rows, or none if any row is bad."""
    from sentiforge.app.data import import_data
    from sentiforge.io.importers import ColumnMap

    mapped = {"text": text_col, "label": label_col, "language": language_col, "split": split_col}
    columns = ColumnMap(**mapped, rationale=rationale_col, attributes=tuple(attr_col))  # type: ignore[arg-type]
    with open_store(db) as store:
        result = import_data(
            store,
            file,
            dataset,
            scheme=scheme,
            columns=columns,
            splits=splits,
            format=file_format,
            language=language,
            seed=seed,
            encoding=encoding,
            delimiter=delimiter,
        )
    console.print(f"imported {result.count} samples into '{result.dataset}'")
    out.print(_counts_line("labels", result.by_label))
    if any(result.by_split):
        out.print(_counts_line("splits", {str(k): v for k, v in result.by_split.items()}))


def _export(
    dataset: Annotated[str, typer.Argument(help="Dataset name.")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder to write (must be empty unless --force).")],
    file_format: Annotated[str, typer.Option("--format", "-f", help="jsonl, csv, parquet or hf")] = "jsonl",
    splits: Annotated[
        str | None,
        typer.Option(help="Fresh stratified splits, e.g. 0.8,0.1,0.1 (default: stored splits, else 0.8,0.1,0.1)."),
    ] = None,
    seed: int = 0,
    include_rejected: Annotated[
        bool, typer.Option("--include-rejected", help="Also write the rejects with their reasons.")
    ] = False,
    meta: Annotated[
        list[str], typer.Option("--meta", help="Extra metadata KEY=VALUE (VALUE may be JSON), repeatable.")
    ] = [],  # noqa: B006
    force: Annotated[bool, typer.Option("--force", help="Write into a folder that is not empty.")] = False,
    db: DbOption = None,
) -> None:
    """Export a dataset with train/validation/test splits and a metadata.json beside."""
    from sentiforge.io.exporters import export_dataset
    from sentiforge.io.splits import parse_splits

    with open_store(db) as store:
        result = export_dataset(
            store,
            dataset,
            out_dir,
            format=file_format,  # type: ignore[arg-type]
            splits=parse_splits(splits) if splits else None,
            seed=seed,
            include_rejected=include_rejected,
            extra_metadata=_parse_meta(meta),
            overwrite=force,
        )
    console.print(f"exported '{dataset}' as {result.format} to {result.out}")
    out.print(_counts_line("splits", result.counts) + (f"; rejected {result.rejected}" if include_rejected else ""))


def _parse_meta(items: list[str]) -> dict[str, Any]:
    from sentiforge.errors import ConfigError

    extra: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--meta takes KEY=VALUE, got {item!r}")
        try:
            extra[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            extra[key.strip()] = value
    return extra


def _counts_line(title: str, counts: dict[str, int]) -> str:
    return f"{title}: " + ", ".join(f"{k} {v}" for k, v in counts.items())


def _datasets(db: DbOption = None, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List datasets with their sample counts."""
    from rich.table import Table

    with open_store(db) as store:
        datasets = store.list_datasets(counts=True)
    rows = [
        {
            "id": d.id,
            "name": d.name,
            "kind": d.kind,
            "scheme": d.scheme.name,
            "accepted": (d.counts or {}).get("accepted", 0),
            "rejected": (d.counts or {}).get("rejected", 0),
            "created_at": d.created_at.isoformat(timespec="seconds"),
        }
        for d in datasets
    ]
    if as_json:
        out.print_json(json.dumps(rows))
        return
    table = Table("id", "name", "kind", "scheme", "accepted", "rejected", "created")
    for r in rows:
        table.add_row(*(str(r[k]) for k in ("id", "name", "kind", "scheme", "accepted", "rejected", "created_at")))
    out.print(table)


def _show(
    dataset: Annotated[str, typer.Argument(help="Dataset name.")],
    n: Annotated[int, typer.Option("--samples", "-n", min=0, help="How many samples to print.")] = 5,
    db: DbOption = None,
) -> None:
    """Counts by label, status and split, and the first few samples."""
    import itertools

    from rich.table import Table

    with open_store(db) as store:
        row = store.dataset(dataset)
        out.print(f"[bold]{row.name}[/bold] (id {row.id}, {row.kind}, scheme {row.scheme.name})")
        for title, by, status in (
            ("status", "status", None),
            ("label", "label", "accepted"),
            ("split", "split", "accepted"),
        ):
            counts = store.count(row.id, by=by, status=status)
            out.print(_counts_line(title, {str(k): v for k, v in sorted(counts.items(), key=lambda kv: str(kv[0]))}))
        if row.meta:
            out.print(f"meta: {json.dumps(row.meta, ensure_ascii=False, default=str)[:400]}")
        first = list(itertools.islice(store.iter_samples(row.id, batch=max(n, 1)), n))
    table = Table("id", "label", "split", "text")
    for s in first:
        table.add_row(str(s.id), s.target(), s.split or "", s.text[:120])
    if n:
        out.print(table)


def _delete(
    dataset: Annotated[str, typer.Argument(help="Dataset name.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    db: DbOption = None,
) -> None:
    """Delete a dataset with its samples and jobs."""
    with open_store(db) as store:
        total = store.count(store.dataset_id(dataset), status=None)
        if not yes:
            typer.confirm(f"delete dataset '{dataset}' and its {total} samples?", abort=True)
        store.delete_dataset(dataset)
    console.print(f"deleted '{dataset}' ({total} samples)")


def register(app: typer.Typer) -> None:
    app.command("import")(_import)
    app.command("export")(_export)
    app.command("datasets")(_datasets)
    app.command("show")(_show)
    app.command("delete")(_delete)
