"""Export a dataset to JSON Lines, CSV, Parquet or a Hugging Face ``datasets`` folder.

One file per split (``train.jsonl``, ...; the HF folder is a ``DatasetDict`` saved with
``save_to_disk``) plus ``metadata.json`` beside: the label scheme, counts per label and split,
a summary of how the data was made, and whatever the caller adds (e.g. the synthetic share
reported by augmentation mixing). Rejects go to their own file (``rejected.*``, or a
``rejected`` split) with their reasons when asked for.

Samples stream from the store twice: once to learn the labels, splits and attribute names,
once to write. JSON Lines keeps ``attributes`` as one object; the tabular formats flatten it
into one column per attribute (``attr_<name>`` when the name clashes with a core column).
"""

from __future__ import annotations

import csv
import json
import tempfile
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from sentiforge.errors import ConfigError, DataError, require
from sentiforge.io.splits import DEFAULT_SPLITS, assign, check_fractions
from sentiforge.labels import LabelScheme
from sentiforge.samples import Sample
from sentiforge.store import Store

Format = Literal["jsonl", "csv", "parquet", "hf"]
FORMATS: tuple[Format, ...] = ("jsonl", "csv", "parquet", "hf")
SPLIT_ORDER = ("train", "validation", "test", "holdout")
REJECTED = "rejected"
BATCH = 2000


@dataclass
class ExportResult:
    out: Path
    format: str
    files: dict[str, str]
    counts: dict[str, int]
    rejected: int
    metadata_path: Path


@dataclass
class Layout:
    """What the dataset holds, learnt in the first pass: columns and the split of every sample."""

    scheme: LabelScheme
    rationale: bool = False
    attributes: dict[str, str] = field(default_factory=dict)  # attribute key -> column name
    targets: list[tuple[int, str]] = field(default_factory=list)
    stored: dict[int, str] = field(default_factory=dict)

    @property
    def label_column(self) -> str:
        return {"single": "label", "multi": "labels", "aspect": "aspects"}[self.scheme.kind]

    def core(self, rejected: bool = False) -> list[str]:
        cols = ["id", "text", self.label_column, "language"]
        cols += ["rationale"] if self.rationale else []
        return cols + ["split"] + (["reason"] if rejected else [])

    def learn(self, sample: Sample) -> None:
        assert sample.id is not None
        self.targets.append((sample.id, sample.target()))
        if sample.split:
            self.stored[sample.id] = sample.split
        self.rationale = self.rationale or bool(sample.rationale)
        for key in sample.attributes:
            if key not in self.attributes:
                clash = key in {"id", "text", "label", "labels", "aspects", "language", "rationale", "split", "reason"}
                self.attributes[key] = f"attr_{key}" if clash else key


def export_dataset(
    store: Store,
    dataset: str,
    out: str | Path,
    *,
    format: Format = "jsonl",
    splits: Mapping[str, float] | None = None,
    seed: int = 0,
    include_rejected: bool = False,
    extra_metadata: Mapping[str, Any] | None = None,
    overwrite: bool = False,
) -> ExportResult:
    """Write a dataset's accepted samples by split (and its rejects if asked) to ``out``.

    ``splits`` draws fresh stratified, seeded splits (the store is not changed). Without it,
    splits stored with the samples are kept (samples without one go to train); a dataset with
    no stored splits at all gets train/validation/test 0.8/0.1/0.1.
    """
    if format not in FORMATS:
        raise ConfigError(f"unknown export format {format!r}; choose one of {list(FORMATS)}")
    row = store.dataset(dataset)
    layout = Layout(row.scheme)
    for sample in store.iter_samples(row.id):
        layout.learn(sample)
    if not layout.targets:
        raise DataError(f"dataset '{dataset}' has no accepted samples to export")
    plan, how = _plan(layout, splits, seed)
    out = _prepare(Path(out), overwrite)
    tally = _write(store, row.id, _WRITERS[format](out, layout), layout, plan, include_rejected)
    meta = {
        "dataset": row.name,
        "kind": row.kind,
        "format": format,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "scheme": layout.scheme.model_dump(mode="json"),
        "splits": {"how": how, "seed": seed, "counts": tally.counts()},
        "counts": tally.summary(),
        "columns": {"core": layout.core(), "attributes": layout.attributes},
        "files": tally.files,
        "provenance": provenance(store, row.id, row.meta),
        "extra": dict(extra_metadata or {}),
    }
    meta_path = out / "metadata.json"
    meta_path.write_text(json.dumps(meta, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    return ExportResult(out, format, tally.files, tally.counts(), sum((tally.rejected or {}).values()), meta_path)


def _write(
    store: Store, dataset_id: int, writer: Any, layout: Layout, plan: Mapping[Any, str], include_rejected: bool
) -> _Tally:
    """Stream the accepted samples (and the rejects, if asked) into the writer's files."""
    tally = _Tally()
    for sample in store.iter_samples(dataset_id):
        split = plan.get(sample.id, "train")
        writer.write(split, _record(sample, layout, split))
        tally.by_split_label[split][sample.target()] += 1
    if include_rejected:
        tally.rejected = Counter()
        for sample in store.iter_samples(dataset_id, status="rejected"):
            writer.write(REJECTED, _record(sample, layout, None, rejected=True))
            tally.rejected[sample.reason or ""] += 1
    tally.files = writer.close()
    return tally


@dataclass
class _Tally:
    by_split_label: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    files: dict[str, str] = field(default_factory=dict)
    rejected: Counter[str] | None = None  # by reason, when rejects are exported

    def counts(self) -> dict[str, int]:
        return _ordered({split: sum(c.values()) for split, c in self.by_split_label.items()})

    def summary(self) -> dict[str, Any]:
        splits = self.counts()
        return {
            "total": sum(splits.values()),
            "by_label": dict(sum(self.by_split_label.values(), Counter()).most_common()),
            "by_split_and_label": {s: dict(sorted(self.by_split_label[s].items())) for s in splits},
            "rejected": sum(self.rejected.values()) if self.rejected is not None else None,
            "rejected_by_reason": dict(self.rejected.most_common()) if self.rejected is not None else None,
        }


def _plan(layout: Layout, splits: Mapping[str, float] | None, seed: int) -> tuple[dict[int, str], Any]:
    if splits is not None:
        fractions = check_fractions(splits)
        return assign(layout.targets, fractions, seed=seed), {"stratified": fractions}
    if layout.stored:
        return layout.stored, "stored (samples without a split: train)"
    return assign(layout.targets, DEFAULT_SPLITS, seed=seed), {"stratified": DEFAULT_SPLITS}


def _prepare(out: Path, overwrite: bool) -> Path:
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out} is a file; export needs a folder")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise ConfigError(f"{out} is not empty; choose another folder or pass overwrite (--force)")
    out.mkdir(parents=True, exist_ok=True)
    return out


def _ordered(counts: Mapping[str, int]) -> dict[str, int]:
    def rank(name: str) -> tuple[int, str]:
        return (SPLIT_ORDER.index(name) if name in SPLIT_ORDER else len(SPLIT_ORDER), name)

    return {name: counts[name] for name in sorted(counts, key=rank)}


def _record(sample: Sample, layout: Layout, split: str | None, *, rejected: bool = False) -> dict[str, Any]:
    r: dict[str, Any] = {"id": sample.id, "text": sample.text}
    kind = layout.scheme.kind
    if kind == "single":
        r["label"] = sample.label
    elif kind == "multi":
        r["labels"] = sample.labels or ([sample.label] if sample.label else [])
    else:
        r["aspects"] = [a.model_dump() for a in sample.aspects or []]
    r["language"] = sample.language
    if layout.rationale:
        r["rationale"] = sample.rationale
    r["attributes"] = sample.attributes
    r["split"] = split
    if rejected:
        r["reason"] = sample.reason
    return r


def provenance(store: Store, dataset_id: int, meta: Mapping[str, Any]) -> dict[str, Any]:
    """How the dataset was made: strategies, models and the jobs (recipe, requests, cost)."""

    def keyed(counts: Mapping[Any, int]) -> dict[str, int]:
        return {str(k) if k is not None else "(none)": v for k, v in counts.items()}

    jobs: list[dict[str, Any]] = []
    for job in store.list_jobs():
        if job.dataset_id != dataset_id:
            continue
        recipe = job.recipe or {}
        jobs.append(
            {
                "id": job.id,
                "recipe": recipe.get("name"),
                "status": job.status,
                "steps": [s.get("strategy") for s in recipe.get("steps", [])],
                "backend": {k: (recipe.get("backend") or {}).get(k) for k in ("kind", "model")},
                "target": job.target,
                "done": job.done,
                "rejected": job.rejected,
                "requests": job.requests,
                "cache_hits": job.cache_hits,
                "tokens": job.prompt_tokens + job.completion_tokens,
                "cost": job.cost,
            }
        )
    return {
        "dataset_meta": dict(meta),
        "strategies": keyed(store.count(dataset_id, by="strategy")),
        "models": keyed(store.count(dataset_id, by="model")),
        "languages": keyed(store.count(dataset_id, by="language")),
        "jobs": jobs,
        "total_cost": round(sum(j["cost"] for j in jobs), 6),
    }


# -- writers --------------------------------------------------------------------------------


class _Writer(Protocol):
    def write(self, split: str, record: dict[str, Any]) -> None: ...

    def close(self) -> dict[str, str]: ...


def _flat(record: dict[str, Any], layout: Layout) -> dict[str, Any]:
    """Attributes as columns (text values: strings kept, anything else as JSON)."""
    flat = {k: v for k, v in record.items() if k != "attributes"}
    attrs = record["attributes"]
    for key, column in layout.attributes.items():
        value = attrs.get(key)
        flat[column] = value if value is None or isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return flat


class _JsonlWriter:
    suffix = ".jsonl"

    def __init__(self, out: Path, layout: Layout) -> None:
        self.out, self.layout = out, layout
        self.files: dict[str, Any] = {}

    def file(self, split: str) -> Any:
        if split not in self.files:
            self.files[split] = (self.out / f"{split}{self.suffix}").open("w", encoding="utf-8", newline="")
        return self.files[split]

    def write(self, split: str, record: dict[str, Any]) -> None:
        self.file(split).write(json.dumps(record, ensure_ascii=False) + "\n")

    def close(self) -> dict[str, str]:
        for f in self.files.values():
            f.close()
        return {split: f"{split}{self.suffix}" for split in _ordered(dict.fromkeys(self.files, 0))}


class _CsvWriter(_JsonlWriter):
    """Labels of a multi scheme as ``a;b``, aspects as a JSON list: what the importer reads back."""

    suffix = ".csv"

    def __init__(self, out: Path, layout: Layout) -> None:
        super().__init__(out, layout)
        self.writers: dict[str, csv.DictWriter[str]] = {}

    def write(self, split: str, record: dict[str, Any]) -> None:
        if split not in self.writers:
            columns = self.layout.core(rejected=split == REJECTED) + list(self.layout.attributes.values())
            self.writers[split] = csv.DictWriter(self.file(split), fieldnames=columns)
            self.writers[split].writeheader()
        row = _flat(record, self.layout)
        label = self.layout.label_column
        if label == "labels":
            row[label] = ";".join(row[label])
        elif label == "aspects":
            row[label] = json.dumps(row[label], ensure_ascii=False)
        self.writers[split].writerow(row)


class _ArrowWriter:
    """Parquet files (or Arrow streams for the HF folder), a batch of rows at a time."""

    def __init__(self, out: Path, layout: Layout) -> None:
        self.pa: Any = require("pyarrow", feature="Parquet export", extra="parquet")
        self.out, self.layout = out, layout
        self.buffers: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.sinks: dict[str, Any] = {}

    def schema(self, split: str) -> Any:
        pa = self.pa
        label = {
            "label": pa.string(),
            "labels": pa.list_(pa.string()),
            "aspects": pa.list_(
                pa.struct([("term", pa.string()), ("polarity", pa.string()), ("category", pa.string())])
            ),
        }
        types = {"id": pa.int64(), **label}
        columns = self.layout.core(rejected=split == REJECTED) + list(self.layout.attributes.values())
        return pa.schema([(c, types.get(c, pa.string())) for c in columns])

    def open(self, split: str) -> Any:
        pq = require("pyarrow.parquet", feature="Parquet export", extra="parquet")
        return pq.ParquetWriter(self.out / f"{split}.parquet", self.schema(split))  # type: ignore[attr-defined]

    def write(self, split: str, record: dict[str, Any]) -> None:
        buffer = self.buffers[split]
        buffer.append(_flat(record, self.layout))
        if len(buffer) >= BATCH:
            self._drain(split)

    def _drain(self, split: str) -> None:
        if split not in self.sinks:
            self.sinks[split] = self.open(split)
        sink = self.sinks[split]
        rows, self.buffers[split] = self.buffers[split], []
        if rows:
            sink.write_table(self.pa.Table.from_pylist(rows, schema=sink.schema))

    def close(self) -> dict[str, str]:
        for split in list(self.buffers):
            self._drain(split)
        for sink in self.sinks.values():
            sink.close()
        return {split: f"{split}.parquet" for split in _ordered(dict.fromkeys(self.sinks, 0))}


class _HfWriter(_ArrowWriter):
    """Arrow streams carrying HF features (labels as ClassLabel), then ``save_to_disk``."""

    def __init__(self, out: Path, layout: Layout) -> None:
        super().__init__(out, layout)
        self.datasets: Any = require("datasets", feature="Hugging Face export", extra="hf")
        self.tmp = tempfile.TemporaryDirectory(prefix="sentiforge-hf-")
        self.names = {name: i for i, name in enumerate(layout.scheme.labels)}
        self.schemas: dict[str, Any] = {}

    def features(self, split: str) -> Any:
        d = self.datasets
        classes = d.ClassLabel(names=list(self.layout.scheme.labels))
        label = {
            "label": classes,
            "labels": d.Sequence(classes),
            "aspects": [{"term": d.Value("string"), "polarity": classes, "category": d.Value("string")}],
        }
        types = {"id": d.Value("int64"), **label}
        columns = self.layout.core(rejected=split == REJECTED) + list(self.layout.attributes.values())
        return d.Features({c: types.get(c, d.Value("string")) for c in columns if c != "split"})

    def open(self, split: str) -> Any:
        self.schemas[split] = self.features(split).arrow_schema
        return self.pa.ipc.new_stream(str(Path(self.tmp.name) / f"{split}.arrow"), self.schemas[split])

    def write(self, split: str, record: dict[str, Any]) -> None:
        record = dict(record)
        record.pop("split")
        index = self.names.get
        if "label" in record:
            record["label"] = index(record["label"]) if record["label"] is not None else None
        elif "labels" in record:
            record["labels"] = [index(x) for x in record["labels"] if x in self.names]
        else:
            record["aspects"] = [{**a, "polarity": index(a["polarity"])} for a in record["aspects"]]
        super().write(split, record)

    def _drain(self, split: str) -> None:
        if split not in self.sinks:
            self.sinks[split] = self.open(split)
        sink = self.sinks[split]
        rows, self.buffers[split] = self.buffers[split], []
        if rows:
            sink.write_batch(self.pa.RecordBatch.from_pylist(rows, schema=self.schemas[split]))

    def close(self) -> dict[str, str]:
        super().close()
        d = self.datasets
        bars = d.is_progress_bar_enabled()
        d.disable_progress_bars()
        try:
            splits = {s: d.Dataset.from_file(str(Path(self.tmp.name) / f"{s}.arrow")) for s in self.sinks}
            d.DatasetDict({s: splits[s] for s in _ordered(dict.fromkeys(splits, 0))}).save_to_disk(str(self.out))
        finally:
            if bars:
                d.enable_progress_bars()
            self.tmp.cleanup()
        return {split: split for split in _ordered(dict.fromkeys(self.sinks, 0))}


_WRITERS: dict[str, Any] = {"jsonl": _JsonlWriter, "csv": _CsvWriter, "parquet": _ArrowWriter, "hf": _HfWriter}
