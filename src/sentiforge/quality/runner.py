"""Run the gate over a stored dataset: resolve holdout and seeds, stream, persist, count."""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sentiforge.errors import StoreError
from sentiforge.progress import OnProgress, Update
from sentiforge.quality import records
from sentiforge.quality.config import QualityConfig
from sentiforge.quality.gate import Gate, build_gate
from sentiforge.quality.summary import LIMIT, text_measures
from sentiforge.samples import Sample
from sentiforge.store import Store


@dataclass
class RunSummary:
    run_id: int
    dataset: str
    examined: int
    counts: dict[str, int]
    leaks: dict[str, int]
    seconds: dict[str, float] = field(default_factory=dict)


def load_reference(store: Store, name: str, split: str | None, datasets: Path | None = None) -> list[Sample]:
    """A real dataset in the store (optionally one split), or a built-in one (``vader:tweets``,
    from ``datasets``, else the packaged copy)."""
    try:
        dataset_id = store.dataset_id(name)
    except StoreError:
        family = name.partition(":")[0]
        if family in {"vader", "uci"}:
            from sentiforge.io.datasets import load_builtin

            return load_builtin(name, root=datasets)
        raise
    splits = store.count(dataset_id, by="split")
    if split is not None and set(splits) == {None}:
        split = None  # a dataset without splits: all of it is the reference
    found = store.samples(dataset_id, status="accepted", split=split)
    if not found:
        where = f" split '{split}'" if split else ""
        raise StoreError(
            f"dataset '{name}'{where} has no accepted samples to use (its splits: {sorted(map(str, splits))})"
        )
    return found


def dataset_language(store: Store, row: Any) -> str:
    """The language the dataset's metadata names, else the one most of its samples carry (set
    at import, detected when the file did not say, or the recipe's for generated data)."""
    named = row.meta.get("language")
    if named:
        return str(named)
    counts = store.count(row.id, by="language")
    return str(max(counts, key=counts.get)) if counts else "en"


def run_quality(
    store: Store,
    dataset: str,
    config: QualityConfig,
    *,
    holdout: str | None = None,
    holdout_split: str | None = None,
    seeds: str | None = None,
    seed_split: str | None = "train",
    judge_client: Any = None,
    embedder: Any = None,
    progress: OnProgress | None = None,
    summary_embedder: Any = None,
    datasets: Path | None = None,
) -> RunSummary:
    """Gate every sample of ``dataset``; records, statuses and review items go to the store.
    The counts keep ``texts`` (:func:`_texts`)."""
    row = store.dataset(dataset)
    held = load_reference(store, holdout, holdout_split, datasets) if holdout else None
    seed_samples = load_reference(store, seeds, seed_split, datasets) if seeds else None
    gate = build_gate(
        config,
        row.scheme,
        language=dataset_language(store, row),
        holdout=held,
        holdout_name=holdout or "holdout",
        seeds=seed_samples,
        judge_client=judge_client,
        embedder=embedder,
    )
    held_name = f"{holdout}:{holdout_split}" if holdout and holdout_split else holdout
    run_id = store.start_quality_run(row.id, config.model_dump(mode="json"), holdout=held_name, seeds=seeds)
    progress_box = {"examined": 0}
    try:
        _stream(
            store, gate, run_id, row.id, config.batch_size, getattr(judge_client, "cache", None), progress, progress_box
        )
    except BaseException as exc:  # record why the run stopped (Ctrl-C too), then re-raise
        error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        store.finish_quality_run(run_id, _counts(gate, progress_box["examined"]), status="failed", error=error)
        raise
    examined = progress_box["examined"]
    counts = {**_counts(gate, examined), "texts": _texts(store, dataset, seed_samples, summary_embedder)}
    store.finish_quality_run(run_id, counts)
    return RunSummary(
        run_id, dataset, examined, dict(gate.counts), gate.leaks(), {k: round(v, 2) for k, v in gate.seconds.items()}
    )


def _texts(store: Store, dataset: str, seeds: list[Sample] | None, embedder: Any) -> dict[str, Any]:
    """Diversity of the accepted texts after the run and their distance to the run's seeds
    (quality/summary.py; ``embedder`` None: the n-gram measures)."""
    return text_measures(store.some_texts(dataset, None, LIMIT), [s.text for s in seeds] if seeds else None, embedder)


def _stream(
    store: Store,
    gate: Gate,
    run_id: int,
    dataset_id: int,
    batch_size: int,
    cache: Any,
    progress: OnProgress | None,
    box: dict[str, int],
) -> None:
    """Records go to the store a batch at a time, with the judge's cached answers."""
    batch: list[records.QualityRecord] = []
    for record in gate.run(records.gate_input(store, dataset_id)):
        batch.append(record)
        if len(batch) >= batch_size:
            box["examined"] += _flush(store, run_id, dataset_id, batch, cache)
            if progress:
                progress(Update(done=box["examined"], counts=dict(gate.counts)))
    box["examined"] += _flush(store, run_id, dataset_id, batch, cache)


def _flush(store: Store, run_id: int, dataset_id: int, batch: list[records.QualityRecord], cache: Any) -> int:
    n = len(batch)
    if n:
        records.write_records(store, run_id, dataset_id, batch)
    if cache is not None and hasattr(cache, "flush"):
        cache.flush()  # judge answers: a rerun of the gate asks the model nothing twice
    batch.clear()
    return n


def _counts(gate: Any, examined: int) -> dict[str, Any]:
    return {
        "examined": examined,
        **dict(gate.counts),
        "leaks": gate.leaks(),
        "seconds": {k: round(v, 2) for k, v in gate.seconds.items()},
    }
