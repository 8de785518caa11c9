"""Datasets: list, show, import an uploaded file (all rows or none), export as a download, delete."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel
from starlette.background import BackgroundTask

from sentiforge.api.deps import ReadKey, SettingsDep, StoreDep, WriteKey
from sentiforge.api.errors import ERRORS
from sentiforge.api.schemas import Cursor, NamePath, Page
from sentiforge.app import data
from sentiforge.errors import ConfigError
from sentiforge.names import NO_NUL
from sentiforge.store.schemas import DatasetPublic

router = APIRouter(prefix="/v1/datasets", tags=["datasets"], responses=ERRORS)
CHUNK = 1 << 20
Threshold = Annotated[
    float | None, Query(gt=0, le=1, description="flag changes above this (default SENTIFORGE_DRIFT_THRESHOLD)")
]


class ImportOut(BaseModel):
    dataset: str
    dataset_id: int
    count: int
    by_label: dict[str, int]
    by_split: dict[str, int]


@router.get("")
def list_datasets(
    store: StoreDep,
    _: ReadKey,
    cursor: Cursor = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Page[DatasetPublic]:
    """Datasets in id order, each with its sample counts by status."""
    found = [d for d in store.list_datasets(counts=True) if d.id > cursor]
    return Page.of(found, limit)


@router.get("/{name}")
def get_dataset(name: NamePath, store: StoreDep, _: ReadKey) -> DatasetPublic:
    found = store.dataset(name)
    return found.model_copy(update={"counts": store.count(found.id, status=None, by="status")})


@router.get("/{name}/overview")
def overview(name: NamePath, store: StoreDep, _: ReadKey) -> data.DatasetOverview:
    """Samples per status; accepted samples per label, strategy, split and language."""
    return data.dataset_overview(store, name)


@contextmanager
def _uploaded(file: UploadFile, format: str | None) -> Iterator[Path]:
    """The upload streamed to a temporary file (removed afterwards), named with its suffix: a
    known one, never the caller's text."""
    from sentiforge.io.importers import SUFFIXES

    suffix = Path(file.filename or "").suffix.lower()
    if suffix not in SUFFIXES:
        if not format:
            raise ConfigError("name the file with its suffix (.csv, .tsv, .jsonl, .parquet) or give 'format'")
        suffix = f".{format}"
    folder = Path(tempfile.mkdtemp(prefix="sentiforge-upload-"))
    try:
        path = folder / f"upload{suffix}"
        with path.open("wb") as out:
            while chunk := file.file.read(CHUNK):
                out.write(chunk)
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@router.post("/{name}/import", status_code=201)
def import_file(
    name: NamePath,
    store: StoreDep,
    _: WriteKey,
    file: Annotated[UploadFile, File(description="A .csv, .tsv, .jsonl or .parquet file")],
    scheme: Annotated[str | None, Form(description="A built-in scheme's name (default: the dataset's own)")] = None,
    text_col: Annotated[str, Form()] = "text",
    label_col: Annotated[str | None, Form()] = None,
    language_col: Annotated[str | None, Form()] = None,
    split_col: Annotated[str | None, Form()] = None,
    rationale_col: Annotated[str | None, Form()] = None,
    attr_col: Annotated[list[str] | None, Form()] = None,
    language: Annotated[str, Form(min_length=1, max_length=12, pattern=NO_NUL)] = "en",
    splits: Annotated[str | None, Form(description="Draw stratified splits, e.g. 0.8,0.1,0.1")] = None,
    format: Annotated[Literal["csv", "jsonl", "parquet"] | None, Form()] = None,
    delimiter: Annotated[str | None, Form(max_length=1)] = None,
    seed: Annotated[int, Form(ge=0, le=2**32 - 1)] = 0,
) -> ImportOut:
    """Upload real, labelled data into a dataset (made if new): every row, or none if one is bad.
    The body streams to a temporary file (size-limited by SENTIFORGE_MAX_UPLOAD_MB)."""
    from sentiforge.io.importers import ColumnMap
    from sentiforge.labels import BUILTIN

    if scheme is not None and scheme not in BUILTIN:  # never a path: the server's files stay its own
        raise ConfigError(f"unknown label scheme {scheme[:60]!r}; over HTTP use one of {sorted(set(BUILTIN))}")
    columns = ColumnMap(text=text_col, label=label_col, language=language_col, split=split_col)
    columns = replace(columns, rationale=rationale_col, attributes=tuple(attr_col or ()))
    options = {"splits": splits, "format": format, "language": language, "seed": seed, "delimiter": delimiter}
    with _uploaded(file, format) as path:
        result = data.import_data(store, path, name, scheme=scheme, columns=columns, **options)  # type: ignore[arg-type]
    by_split = {str(k) if k is not None else "none": v for k, v in result.by_split.items()}
    return ImportOut(
        dataset=result.dataset,
        dataset_id=result.dataset_id,
        count=result.count,
        by_label=result.by_label,
        by_split=by_split,
    )


@router.get("/{name}/export", response_class=FileResponse, responses={200: {"content": {"application/zip": {}}}})
def export(
    name: NamePath,
    store: StoreDep,
    _: ReadKey,
    format: Literal["jsonl", "csv", "parquet", "hf"] = "jsonl",
    splits: Annotated[
        str | None, Query(max_length=100, description="Fresh stratified splits, e.g. 0.8,0.1,0.1")
    ] = None,
    seed: Annotated[int, Query(ge=0, le=2**32 - 1)] = 0,
    include_rejected: bool = False,
) -> Any:
    """The dataset in any export format, as one zip (split files and metadata.json)."""
    from sentiforge.io.splits import parse_splits

    archive, _result = data.export_archive(
        store,
        name,
        format=format,
        splits=parse_splits(splits) if splits else None,
        seed=seed,
        include_rejected=include_rejected,
    )
    cleanup = BackgroundTask(shutil.rmtree, archive.parent, ignore_errors=True)
    return FileResponse(archive, media_type="application/zip", filename=f"{name}-{format}.zip", background=cleanup)


@router.delete("/{name}", status_code=204)
def delete(name: NamePath, store: StoreDep, _: WriteKey) -> Response:
    """Delete a dataset with its samples and jobs."""
    store.delete_dataset(name)
    return Response(status_code=204)


@router.get("/{name}/quality/history")
def quality_history(
    name: NamePath, store: StoreDep, settings: SettingsDep, _: ReadKey, threshold: Threshold = None
) -> list[dict[str, Any]]:
    """Each quality run's summary (reject rate by check, label balance, judge agreement, mean
    score, diversity, distance to seeds), its change from the run before, and what moved beyond
    ``threshold`` (default SENTIFORGE_DRIFT_THRESHOLD)."""
    from sentiforge.quality.history import quality_history as history

    return history(store, name, threshold or settings.drift_threshold)


@router.get("/{name}/jobs/history")
def jobs_history(
    name: NamePath, store: StoreDep, settings: SettingsDep, _: ReadKey, threshold: Threshold = None
) -> list[dict[str, Any]]:
    """The summary of each finished generation/augment job that filled the dataset (counts,
    reject rate by reason, label balance, judge agreement, diversity, distance to seeds), its
    change from the job before, and what moved beyond ``threshold``."""
    from sentiforge.quality.history import job_history

    return job_history(store, dataset=name, threshold=threshold or settings.drift_threshold)
