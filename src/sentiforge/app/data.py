"""Data in and out, for the CLI, the API and the workbench: import a file, export a dataset as
one archive, browse samples with their quality score and review state, a dataset's overview."""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from sentiforge.errors import ConfigError, NotFoundError
from sentiforge.store.schemas import DatasetPublic

if TYPE_CHECKING:
    from sentiforge.io.exporters import ExportResult
    from sentiforge.io.importers import ColumnMap, ImportResult
    from sentiforge.store import Store
    from sentiforge.store.schemas import SampleFilter, SamplePublic


def import_data(
    store: Store,
    path: str | Path,
    dataset: str,
    *,
    scheme: str | None = None,
    columns: ColumnMap | None = None,
    splits: str | None = None,
    **options: Any,
) -> ImportResult:
    """Import a file into a real dataset, all rows or none. The scheme is the one named, else
    the dataset's own, else three_class; ``splits`` (``0.8,0.1,0.1``) draws stratified splits."""
    from sentiforge.io.importers import import_file
    from sentiforge.io.splits import parse_splits
    from sentiforge.labels import get_scheme

    try:
        label_scheme = get_scheme(scheme) if scheme else store.scheme(dataset)
    except NotFoundError:  # a new dataset
        label_scheme = get_scheme("three_class")
    return import_file(
        store,
        path,
        dataset,
        label_scheme,
        columns=columns,
        splits=parse_splits(splits) if splits else None,
        **options,
    )


def export_archive(
    store: Store,
    dataset: str,
    *,
    format: str = "jsonl",
    splits: Mapping[str, float] | None = None,
    seed: int = 0,
    include_rejected: bool = False,
) -> tuple[Path, ExportResult]:
    """Export a dataset (every file ``export`` writes, metadata.json included) into one zip
    archive in a fresh temporary folder; the caller deletes that folder (``path.parent``).
    Neither the archive's file name nor its entries' names come from the caller: the entries
    are the exporter's own file names, under ``dataset-<id>/``."""
    from sentiforge.io.exporters import export_dataset

    work = Path(tempfile.mkdtemp(prefix="sentiforge-export-"))
    try:
        fmt: Any = format  # export_dataset refuses an unknown format with a ConfigError
        result = export_dataset(
            store, dataset, work / "out", format=fmt, splits=splits, seed=seed, include_rejected=include_rejected
        )
        folder = f"dataset-{store.dataset_id(dataset)}"
        archive = work / f"{folder}-{format}.zip"
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for file in sorted(result.out.rglob("*")):
                if file.is_file():
                    zf.write(file, f"{folder}/{file.relative_to(result.out).as_posix()}")
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return archive, result


def browse_samples(
    store: Store, dataset: str, where: SampleFilter | None = None, *, after: int = 0, limit: int = 100
) -> list[SamplePublic]:
    """A page of a dataset's samples (ids above ``after``), filtered; each with its latest
    quality score and review state."""
    row = store.dataset(dataset)
    label = where.label if where is not None else None
    if label is not None and label not in row.scheme.labels:
        raise ConfigError(
            f"unknown label {label!r} for scheme '{row.scheme.name}'; its labels: {list(row.scheme.labels)}"
        )
    return store.find_samples(row.id, where, after=after, limit=limit)


class DatasetOverview(BaseModel):
    """What a dataset holds: its samples per status, and its accepted samples per label,
    strategy (where they came from), split and language."""

    dataset: DatasetPublic
    by_status: dict[str, int]
    by_label: dict[str, int]
    by_strategy: dict[str, int]
    by_split: dict[str, int]
    by_language: dict[str, int]


def dataset_overview(store: Store, dataset: str) -> DatasetOverview:
    """The counts of a dataset's overview (NotFoundError for an unknown dataset); a sample
    without a value (no split, no strategy) counts under ``none``."""
    row = store.dataset(dataset)

    def counts(by: str, status: str | None = "accepted") -> dict[str, int]:
        found = store.count(row.id, status=status, by=by)
        return {("none" if k is None else str(k)): n for k, n in sorted(found.items(), key=lambda kv: -kv[1])}

    labels = counts("label")
    return DatasetOverview(
        dataset=row,
        by_status=counts("status", None),
        by_label={label: labels.get(label, 0) for label in row.scheme.labels} | labels,
        by_strategy=counts("strategy"),
        by_split=counts("split"),
        by_language=counts("language"),
    )
