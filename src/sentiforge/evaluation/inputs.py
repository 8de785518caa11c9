"""Where evaluation data comes from: a built-in real set, a file, or a dataset in the store.

``vader:tweets`` / ``uci:yelp`` name the packaged real sets; a path to a .csv/.tsv/.jsonl/
.parquet file is read by the importer's reader (same validation and error messages as
``sentiforge import``, no store involved); anything else is a dataset name in the store.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from sentiforge.errors import ConfigError, DataError
from sentiforge.labels import LabelScheme, get_scheme
from sentiforge.samples import Sample

BUILTIN_PREFIXES = ("vader:", "uci:")
FILE_SUFFIXES = (".csv", ".tsv", ".jsonl", ".ndjson", ".parquet")
KNOWN = {"text", "label", "labels", "aspects", "split", "language", "rationale", "id"}


def columns_of(path: Path) -> list[str]:
    """The column names of a data file, read from its first line, header or schema."""
    suffix = path.suffix.lower()
    try:
        if suffix in {".jsonl", ".ndjson"}:
            with path.open(encoding="utf-8-sig") as f:
                first = next((line for line in f if line.strip()), "{}")
            value = json.loads(first)
            return list(value) if isinstance(value, dict) else []
        if suffix in {".csv", ".tsv"}:
            with path.open(encoding="utf-8-sig", newline="") as f:
                return [h.strip() for h in next(csv.reader(f, delimiter="\t" if suffix == ".tsv" else ","), [])]
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            return list(pq.ParquetFile(path).schema_arrow.names)
    except (OSError, ValueError, ImportError) as exc:
        raise DataError(f"cannot read the columns of {path}: {exc}") from exc
    raise DataError(f"cannot tell the format of {path}; use one of {list(FILE_SUFFIXES)}")


def load_file(path: Path, scheme: LabelScheme, language: str = "auto") -> list[Sample]:
    """Every row of a file as samples, validated by the importer; a ``split`` column is kept.
    Without a ``language`` column, the language is detected from the texts (``auto``)."""
    from sentiforge.io.importers import ColumnMap, read_file

    cols = columns_of(path)
    columns = ColumnMap(
        split="split" if "split" in cols else None,
        language="language" if "language" in cols else None,
        rationale="rationale" if "rationale" in cols else None,
        attributes=tuple(c for c in cols if c not in KNOWN),
    )
    return list(read_file(path, scheme, columns=columns, language=language))


def load_samples(
    spec: str,
    scheme: str | LabelScheme | None = None,
    *,
    db: str | None = None,
    pool_size: int = 5,
    datasets: Path | None = None,
    language: str = "auto",
) -> tuple[list[Sample], LabelScheme]:
    """Samples and their scheme for a built-in set (from ``datasets``, else the packaged copy),
    a file path or a dataset name in the store at ``db`` (opened with ``pool_size``)."""
    if spec.startswith(BUILTIN_PREFIXES):
        from sentiforge.io.datasets import load_builtin

        sch = get_scheme(scheme or ("binary" if spec.startswith("uci:") else "three_class"))
        return load_builtin(spec, sch, root=datasets), sch
    path = Path(spec)
    if path.suffix.lower() in FILE_SUFFIXES:
        if not path.is_file():
            raise DataError(f"{path} does not exist")
        if scheme is None:
            raise ConfigError(f"say which label scheme {path} uses (--scheme)")
        sch = get_scheme(scheme)
        return load_file(path, sch, language), sch
    if not db:
        raise ConfigError(f"'{spec}' is neither a built-in set nor a data file; a stored dataset needs db=URL")
    from sentiforge.store import Store

    store = Store(db, pool_size=pool_size)
    try:
        row = store.dataset(spec)
        stored = LabelScheme.model_validate(row.scheme)
        sch = get_scheme(scheme) if scheme is not None else stored
        if (sch.kind, sch.labels) != (stored.kind, stored.labels):
            raise ConfigError(f"dataset '{spec}' uses scheme '{stored.name}' {list(stored.labels)}, not '{sch.name}'")
        return list(store.iter_samples(row.id)), sch
    finally:
        store.close()
