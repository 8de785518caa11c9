"""Read real, labelled data from CSV/TSV, JSON Lines or Parquet, and import it into a dataset.

:func:`read_file` yields validated samples without a store (evaluation reads files so);
:func:`import_file` writes the same samples to a dataset. A bad row anywhere (a malformed
line, an unknown label, bytes that are not UTF-8) raises a :class:`DataError` naming the
file, the line or row and the value. A file goes in whole or not at all: rows stream through
validation into one store transaction (``Store.add_samples``), so an error leaves the store
as it was. Files are read line by line or batch by batch, never whole, and read twice only
when splits must be drawn (stratified splits need every label before the first sample).
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sentiforge.errors import DataError, LabelError, SentiforgeError
from sentiforge.io.splits import assign
from sentiforge.labels import LabelScheme
from sentiforge.names import find_nul
from sentiforge.samples import Sample
from sentiforge.store import Store

Format = Literal["csv", "jsonl", "parquet"]
SUFFIXES: dict[str, Format] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
}
Row = tuple[str, dict[str, Any]]  # (where: "line 3" / "row 3", values by column)
_SPLIT = re.compile(r"^[a-z][a-z0-9_-]{0,15}$")


@dataclass(frozen=True)
class ColumnMap:
    """Which column holds what. Give ``label`` (one label; for a multi scheme a list or a
    ``a;b`` string; for an aspect scheme a JSON list), or ``labels`` / ``aspects``; left empty,
    the column named after the scheme's kind is used (label, labels or aspects)."""

    text: str = "text"
    label: str | None = None
    labels: str | None = None
    aspects: str | None = None
    language: str | None = None
    split: str | None = None
    rationale: str | None = None
    attributes: tuple[str, ...] = ()

    def label_column(self, scheme: LabelScheme) -> str:
        given = [c for c in (self.label, self.labels, self.aspects) if c]
        if len(given) > 1:
            raise DataError(f"map only one label column (label, labels or aspects), not {given}")
        if given:
            return given[0]
        return {"single": "label", "multi": "labels", "aspect": "aspects"}[scheme.kind]

    def required(self, scheme: LabelScheme) -> list[str]:
        optional = [self.language, self.split, self.rationale, *self.attributes]
        return [self.text, self.label_column(scheme), *[c for c in optional if c]]


@dataclass
class ImportResult:
    dataset: str
    dataset_id: int
    count: int
    by_label: dict[str, int] = field(default_factory=dict)
    by_split: dict[str | None, int] = field(default_factory=dict)
    by_language: dict[str, int] = field(default_factory=dict)


def read_file(
    path: str | Path,
    scheme: LabelScheme,
    *,
    columns: ColumnMap | None = None,
    format: Format | None = None,
    language: str = "auto",
    splits: Mapping[str, float] | None = None,
    seed: int = 0,
    encoding: str = "utf-8",
    delimiter: str | None = None,
    batch: int = 1000,
) -> Iterator[Sample]:
    """The file's rows as validated samples, streamed, with no store involved.

    The file, its format and its columns are checked (and splits drawn) before this returns;
    rows are converted as they are read, so a bad row raises when the iteration reaches it.
    ``splits`` (fractions by name) draws stratified, seeded splits when the file has no split
    column; a mapped split column always wins. ``language="auto"`` (the default) detects
    the language of rows without a language column from the file's first texts.
    """
    path = Path(path)
    columns = columns or ColumnMap()
    fmt = format or _detect(path)
    open_rows = _reader(path, fmt, columns.required(scheme), encoding=encoding, delimiter=delimiter, batch=batch)
    if not columns.language:
        language = _file_language(open_rows, columns.text, language)
    convert = _converter(path, scheme, columns, language)
    plan: dict[int, str] = {}
    if splits and not columns.split:
        targets = ((i, convert(where, values).target()) for i, (where, values) in enumerate(open_rows()))
        plan = assign(targets, splits, seed=seed)
    return _samples(path, open_rows, convert, plan)


def _file_language(open_rows: Callable[[], Iterator[Row]], text_column: str, language: str) -> str:
    """The language given, or (``auto``) the one detected in the first texts of the file."""
    from sentiforge.language import AUTO, SAMPLE, resolve_language

    if language != AUTO:
        return language
    rows = open_rows()
    try:
        texts = [v.get(text_column) for _, v in itertools.islice(rows, SAMPLE * 2)]
    finally:
        getattr(rows, "close", lambda: None)()  # the file behind the rows
    return resolve_language(language, (t for t in texts if isinstance(t, str)))


def _samples(
    path: Path,
    open_rows: Callable[[], Iterator[Row]],
    convert: Callable[[str, dict[str, Any]], Sample],
    plan: dict[int, str],
) -> Iterator[Sample]:
    count = 0
    for i, (where, values) in enumerate(open_rows()):
        sample = convert(where, values)
        count += 1
        yield sample.model_copy(update={"split": plan[i]}) if plan else sample
    if not count:
        raise DataError(f"{path} has no data rows; nothing was imported")


def import_file(
    store: Store,
    path: str | Path,
    dataset: str,
    scheme: LabelScheme,
    *,
    columns: ColumnMap | None = None,
    format: Format | None = None,
    language: str = "auto",
    splits: Mapping[str, float] | None = None,
    seed: int = 0,
    encoding: str = "utf-8",
    delimiter: str | None = None,
    batch: int = 1000,
) -> ImportResult:
    """Add every row of a file (read by :func:`read_file`) to a real dataset, created if
    missing, or nothing if any row is bad."""
    path = Path(path)
    fmt = format or _detect(path)
    rows = read_file(
        path, scheme, columns=columns, format=fmt, language=language, splits=splits, seed=seed,
        encoding=encoding, delimiter=delimiter, batch=batch,
    )  # fmt: skip
    dataset_id, created = _open_dataset(store, dataset, scheme)
    by_label: Counter[str] = Counter()
    by_split: Counter[str | None] = Counter()
    by_language: Counter[str] = Counter()

    def counted() -> Iterator[Sample]:
        for sample in rows:
            by_label[sample.target()] += 1
            by_split[sample.split] += 1
            by_language[sample.language] += 1
            yield sample

    try:
        count = store.add_samples(dataset_id, counted(), batch=batch)
    except BaseException:
        if created:
            store.delete_dataset(dataset)
        raise
    imports = list(store.dataset(dataset_id).meta.get("imports", []))
    entry = {"file": path.name, "format": fmt, "count": count, "languages": dict(by_language)}
    store.update_dataset_meta(dataset_id, imports=[*imports, entry])
    return ImportResult(dataset, dataset_id, count, dict(by_label), dict(by_split), dict(by_language))


def _detect(path: Path) -> Format:
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise DataError(
            f"cannot tell the format of {path} from its suffix; use one of {sorted(SUFFIXES)} or pass format="
        )
    return fmt


def _open_dataset(store: Store, name: str, scheme: LabelScheme) -> tuple[int, bool]:
    try:
        row = store.dataset(name)
    except SentiforgeError:
        return store.create_dataset(name, scheme, kind="real", meta={"source": "import"}), True
    if row.kind != "real":
        raise DataError(f"dataset '{name}' holds {row.kind} data; import real data into another dataset")
    existing = row.scheme
    if (existing.kind, existing.labels) != (scheme.kind, scheme.labels):
        raise DataError(
            f"dataset '{name}' uses scheme '{existing.name}' {list(existing.labels)}, "
            f"not '{scheme.name}' {list(scheme.labels)}; import into a new dataset or use the same scheme"
        )
    return row.id, False


# -- rows to samples ----------------------------------------------------------------------


def _converter(
    path: Path, scheme: LabelScheme, columns: ColumnMap, language: str
) -> Callable[[str, dict[str, Any]], Sample]:
    label_col = columns.label_column(scheme)

    def convert(where: str, values: dict[str, Any]) -> Sample:
        def bad(problem: str) -> DataError:
            return DataError(f"{path}: {where}: {problem}")

        nul = find_nul({c: values[c] for c in columns.required(scheme)})
        if nul is not None:
            raise bad(f"column {nul} holds a NUL character (\\x00), which cannot be stored; remove it")

        text = values[columns.text]
        if not isinstance(text, str) or not text.strip():
            raise bad(f"column '{columns.text}' is empty or not text ({text!r})")
        fields: dict[str, Any] = {"text": text, "language": language}
        try:
            fields.update(_label_fields(scheme, values[label_col]))
        except (LabelError, ValueError, TypeError) as exc:
            raise bad(f"column '{label_col}': {exc}") from None
        if columns.language:
            lang = _clean(values[columns.language])
            if not isinstance(lang, str) or not 1 <= len(lang.strip()) <= 12:
                raise bad(f"language {lang!r} in column '{columns.language}' is not a language code")
            fields["language"] = lang.strip()
        if columns.split:
            split = _clean(values[columns.split])
            split = split.strip().lower() if isinstance(split, str) else split
            if split not in (None, "") and not (isinstance(split, str) and _SPLIT.match(split)):
                raise bad(f"split {split!r} in column '{columns.split}' is not a split name like train/validation/test")
            fields["split"] = split or None
        if columns.rationale:
            rationale = _clean(values[columns.rationale])
            fields["rationale"] = str(rationale) if rationale not in (None, "") else None
        fields["attributes"] = {c: _clean(values[c]) for c in columns.attributes}
        return Sample(**fields)

    return convert


def _label_fields(scheme: LabelScheme, raw: Any) -> dict[str, Any]:
    raw = _clean(raw)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise LabelError("the label is missing")
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if scheme.kind == "single":
        return {"label": scheme.normalize(raw)}
    if isinstance(raw, str) and raw.strip().startswith("["):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise LabelError(f"{raw!r} is not a JSON list ({exc.msg})") from None
    if scheme.kind == "multi":
        return {"labels": scheme.normalize_set(raw)}
    return {"aspects": scheme.normalize_aspects(raw)}


def _clean(value: Any) -> Any:
    """JSON-safe values: NaN (pandas' missing value) becomes None, exotic types become text."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is None or isinstance(value, str | int | float | bool | list | dict):
        return value
    return str(value)


# -- readers --------------------------------------------------------------------------------


def read_rows(
    path: str | Path, needed: list[str], *, format: Format | None = None, encoding: str = "utf-8",
    delimiter: str | None = None, batch: int = 1000,
) -> Iterator[Row]:  # fmt: skip
    """The raw rows of any importable file, each with where it is (``line 3``), streamed: the
    one reader of tabular files, for labelled imports and unlabelled pools alike. A file
    without a ``needed`` column, or a malformed row, raises a DataError naming the line."""
    path = Path(path)
    return _reader(path, format or _detect(path), needed, encoding=encoding, delimiter=delimiter, batch=batch)()


def _reader(
    path: Path, fmt: Format, needed: list[str], *, encoding: str, delimiter: str | None, batch: int
) -> Callable[[], Iterator[Row]]:
    """A function that opens the file afresh and yields its rows (so it can be read twice)."""
    if not path.is_file():
        raise DataError(f"{path} does not exist or is not a file")
    if fmt == "csv":
        sep = delimiter or ("\t" if path.suffix.lower() == ".tsv" else ",")
        return lambda: _csv_rows(path, needed, encoding, sep)
    if fmt == "jsonl":
        return lambda: _jsonl_rows(path, needed, encoding)
    if fmt == "parquet":
        return lambda: _parquet_rows(path, needed, batch)
    raise DataError(f"unknown import format {fmt!r}; use csv, jsonl or parquet")


def decoded_lines(path: Path, encoding: str) -> Iterator[str]:
    """Decoded lines, with the line number and bytes of any that do not decode."""
    with path.open("rb") as f:
        for number, raw in enumerate(f, 1):
            try:
                line = raw.decode(encoding)
            except UnicodeDecodeError as exc:
                bad = raw[exc.start : exc.end]
                raise DataError(
                    f"{path}: line {number}: bytes {bad!r} at column {exc.start + 1} are not valid {encoding}; "
                    "re-save the file as UTF-8 or pass the right encoding"
                ) from None
            yield line.removeprefix("\ufeff") if number == 1 else line


def _missing(path: Path, needed: list[str], present: list[str], where: str = "") -> DataError:
    missing = [c for c in needed if c not in present]
    return DataError(
        f"{path}{': ' + where if where else ''}: no column {', '.join(repr(c) for c in missing)}; "
        f"the columns are {present}. Map them with --text-col/--label-col/..."
    )


def _csv_rows(path: Path, needed: list[str], encoding: str, sep: str) -> Iterator[Row]:
    reader = csv.reader(decoded_lines(path, encoding), delimiter=sep, strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise DataError(f"{path} is empty (no header line, no rows)")
        header = [h.strip() for h in header]
        if len(set(header)) != len(header):
            dupes = sorted({h for h in header if header.count(h) > 1})
            raise DataError(f"{path}: line 1: the header repeats column(s) {dupes}")
        if any(c not in header for c in needed):
            raise _missing(path, needed, header)
        for record in reader:
            if not record:
                continue  # a blank line
            if len(record) != len(header):
                raise DataError(
                    f"{path}: line {reader.line_num}: {len(record)} fields where the header has {len(header)} "
                    "(an unquoted delimiter or a stray quote?)"
                )
            yield f"line {reader.line_num}", dict(zip(header, record, strict=True))
    except csv.Error as exc:
        raise DataError(f"{path}: line {reader.line_num}: malformed CSV ({exc})") from None


def _jsonl_rows(path: Path, needed: list[str], encoding: str) -> Iterator[Row]:
    for number, line in enumerate(decoded_lines(path, encoding), 1):
        if not line.strip():
            continue
        try:
            values = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}: line {number}: not valid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(values, dict):
            raise DataError(f"{path}: line {number}: expected a JSON object, got {type(values).__name__}")
        if any(c not in values for c in needed):
            raise _missing(path, needed, list(values), f"line {number}")
        yield f"line {number}", values


def _parquet_rows(path: Path, needed: list[str], batch: int) -> Iterator[Row]:
    from sentiforge.errors import require

    pq: Any = require("pyarrow.parquet", feature="Parquet import", extra="parquet")
    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError...
        raise DataError(f"{path} is not a readable Parquet file ({exc})") from None
    present = list(pf.schema_arrow.names)
    if any(c not in present for c in needed):
        raise _missing(path, needed, present)
    number = 0
    for record_batch in pf.iter_batches(batch_size=batch, columns=list(dict.fromkeys(needed))):
        for values in record_batch.to_pylist():
            number += 1
            yield f"row {number}", values
