"""Label these next: a queue of a pool's texts whose labels would help a model most, and
the labels people give there, kept as a human seed dataset the model can be rebuilt from.

The queue is the model's most uncertain texts of an unlabelled pool (a dataset made by
``sentiforge ground``, or any dataset: its labels are ignored), chosen by
:mod:`sentiforge.classifiers.active_learning`; texts already labelled are left out. Each label
is stored at once in the *human seed dataset* (default ``<pool>-human``; strategy ``human``,
the reviewer's key name and the time in its provenance). That dataset is created on the first
label with a copy of the model's own labelled seeds when they can be read (the model's
``training_data.source``: a store dataset, a file or a built-in set), so that
``sentiforge build <pool>-human --out DIR`` retrains on the seeds and every label given since.

Active learning works in rounds: once 25 labels are in, the queue is scored by a copy of the
model refitted on the human seed dataset (the embedding classifier stands in for a slow kind),
refitted again every 25 labels (``benchmarks/active_learning`` measures these rounds). The
model's probabilities over the pool, the refits' and the pool's embeddings are computed once
and kept in this process (a few pools), so paging the queue is cheap.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel

from sentiforge.errors import ConfigError, ConflictError, DataError, NotFoundError, SentiforgeError
from sentiforge.names import NAME_MAX, check_name
from sentiforge.samples import Provenance, Sample

if TYPE_CHECKING:
    from sentiforge.app.predict import ModelRegistry
    from sentiforge.store import Store

MAX_POOL = 100_000  # texts of a pool scored per queue (a bigger pool: ground a sample of it)
MAX_QUEUE = 100
HUMAN = "human"  # the strategy of a label a person gave
CACHED = 4  # (model, pool) score tables kept per process
REFIT_EVERY = 25  # labels between refits of the queue's scorer
FAST_KINDS = ("tfidf", "embedding", "fake")  # refitted as themselves; slower kinds by an embedding classifier


class QueueItem(BaseModel):
    """A pool text to label, with what the model thinks of it now."""

    id: int  # the pool sample's id: what a label names
    text: str
    predicted: str
    margin: float  # top probability minus the runner-up: 0 is a coin toss
    scores: dict[str, float]
    cluster: int  # its group among the queue's candidates (-1: none)


class LabelQueue(BaseModel):
    model: str
    pool: str
    into: str  # the human seed dataset labels go to
    labels: list[str]
    guidelines: dict[str, str]
    pool_size: int
    labelled: int  # pool texts labelled in ``into``
    scored_by: str  # the model, or its refit on the labels so far
    items: list[QueueItem]


class Labelled(BaseModel):
    """One label given: the stored sample and its place."""

    dataset: str
    pool_id: int
    label: str
    reviewer: str
    labelled_at: str


@dataclass
class _Scored:
    key: tuple[Any, ...]  # model, its version, pool, pool size: what the numbers depend on
    ids: list[int]
    texts: list[str]
    language: str
    proba: np.ndarray
    vectors: np.ndarray | None = None  # sentence embeddings: only diverse-margin needs them


_CACHE: OrderedDict[tuple[Any, ...], _Scored] = OrderedDict()
_REFITS: OrderedDict[tuple[Any, ...], tuple[np.ndarray, int]] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_WRITE_LOCK = threading.Lock()  # one label write at a time in a process: no double label of a text


def human_dataset_name(pool: str, into: str | None) -> str:
    return check_name(into or f"{pool}-human"[:NAME_MAX], "human seed dataset name")


def queue(
    store: Store,
    registry: ModelRegistry,
    model: str | None,
    pool: str,
    *,
    into: str | None = None,
    n: int = 20,
    method: str = "margin",
    seed: int = 0,
    refit_every: int = REFIT_EVERY,
) -> LabelQueue:
    """The ``n`` pool texts to label next for a model, most uncertain first."""
    from sentiforge.classifiers.active_learning import select

    if not 1 <= n <= MAX_QUEUE:
        raise ConfigError(f"ask for 1 to {MAX_QUEUE} texts at a time, not {n}")
    name, clf = _single_label_model(registry, model)
    target = human_dataset_name(pool, into)
    scored = _scored(store, registry, name, clf, pool)
    human = _human_samples(store, target)
    done = _labelled_pool_ids(human, pool)
    texts_done = {s.text.strip().casefold() for s in human}
    exclude = [i for i, (sid, t) in enumerate(zip(scored.ids, scored.texts, strict=True))
               if sid in done or t.strip().casefold() in texts_done]  # fmt: skip
    proba, scorer = _current_proba(store, scored, clf, name, target, human, len(done) // refit_every)
    if method == "diverse-margin" and scored.vectors is None:
        scored.vectors = _embeddings(store, pool, scored.texts, scored.language)
    vectors = scored.vectors if scored.vectors is not None else np.zeros((len(scored.ids), 0))
    picks = select(proba, vectors, n, exclude=exclude, method=method, seed=seed)
    labels = list(clf.scheme.labels)
    items = [_queue_item(scored, proba, labels, p) for p in picks]
    return LabelQueue(
        model=name,
        pool=pool,
        into=target,
        labels=labels,
        guidelines={lab: clf.scheme.describe(lab) for lab in labels},
        pool_size=len(scored.ids),
        labelled=len(done),
        scored_by=scorer,
        items=items,
    )


def _queue_item(scored: Any, proba: Any, labels: list[str], pick: Any) -> QueueItem:
    row = proba[pick.index]
    return QueueItem(
        id=scored.ids[pick.index],
        text=scored.texts[pick.index],
        predicted=labels[int(np.argmax(row))],
        margin=round(pick.margin, 4),
        scores={lab: round(float(x), 4) for lab, x in zip(labels, row, strict=True)},
        cluster=pick.cluster,
    )


def give_label(
    store: Store,
    registry: ModelRegistry,
    model: str | None,
    pool: str,
    pool_id: int,
    label: str,
    *,
    by: str,
    into: str | None = None,
    datasets: Path | None = None,
) -> Labelled:
    """Store a person's label of a pool text in the human seed dataset (409 if it has one).
    A model trained on a built-in set has its seeds copied from ``datasets`` (the folder the
    settings name, handed down), else the packaged copy."""
    name, clf = _single_label_model(registry, model)
    scheme = clf.scheme
    if label not in scheme.labels:
        raise ConfigError(f"label {label!r} is not one of the model's labels {list(scheme.labels)}")
    target = human_dataset_name(pool, into)
    text = _pool_text(store, pool, pool_id)
    with _WRITE_LOCK:
        dataset_id = _human_dataset(store, target, scheme, name, pool, clf, datasets)
        done = _labelled_pool_ids(_human_samples(store, target), pool)
        if pool_id in done:
            raise ConflictError(f"pool text {pool_id} is labelled already ({done[pool_id]}); undo is not offered")
        when = datetime.now(UTC).isoformat(timespec="seconds")
        params = {"reviewer": by, "labelled_at": when, "pool": pool, "pool_id": pool_id, "model": name}
        sample = Sample(text=text.text, label=label, language=text.language,
                        provenance=Provenance(strategy=HUMAN, params=params))  # fmt: skip
        store.add_samples(dataset_id, [sample])
    return Labelled(dataset=target, pool_id=pool_id, label=label, reviewer=by, labelled_at=when)


# -- the pieces ------------------------------------------------------------------------
def _single_label_model(registry: ModelRegistry, model: str | None) -> tuple[str, Any]:
    name, clf = registry.get(model)
    if clf.scheme.kind == "multi":
        raise ConfigError(f"model '{name}' is multi-label; the label queue needs a single-label model")
    return name, clf


def _pool_samples(store: Store, pool: str) -> tuple[int, list[Sample]]:
    dataset_id = store.dataset_id(pool)
    samples = []
    for s in store.iter_samples(dataset_id):
        if s.text.strip():
            samples.append(s)
        if len(samples) > MAX_POOL:
            raise DataError(f"pool '{pool}' holds over {MAX_POOL} texts; ground a sample of it for the label queue")
    if not samples:
        raise DataError(f"pool '{pool}' has no texts")
    return dataset_id, samples


def _scored(store: Store, registry: ModelRegistry, name: str, clf: Any, pool: str) -> _Scored:
    """The model's probabilities over the pool's texts (cached per model version and pool)."""
    dataset_id, samples = _pool_samples(store, pool)
    version = (registry.folder / name / "model.json").stat().st_mtime
    key = (name, version, dataset_id, len(samples), samples[-1].id)
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
    if hit is not None:
        return hit
    texts = [s.text for s in samples]
    scored = _Scored(
        key=key,
        ids=[int(s.id or 0) for s in samples],
        texts=texts,
        language=samples[0].language,
        proba=np.asarray(clf.predict_proba(texts), dtype=np.float64),
    )
    with _CACHE_LOCK:
        _CACHE[key] = scored
        while len(_CACHE) > CACHED:
            _CACHE.popitem(last=False)
    return scored


def _current_proba(
    store: Store, scored: _Scored, clf: Any, name: str, target: str, human: list[Sample], rounds: int
) -> tuple[np.ndarray, str]:
    """The model's probabilities over the pool in the first round; in later ones (a round is
    ``refit_every`` labels), those of a copy refitted on the human seed dataset (seeds and
    labels) at the round's start: what the benchmark's rounds measure. A slow kind is stood in for by
    the embedding classifier; without copied seeds there is nothing sound to refit on."""
    from sentiforge.classifiers.registry import train

    if rounds == 0:
        return scored.proba, f"model '{name}'"
    if not store.dataset(target).meta.get("seeds", {}).get("copied"):
        return scored.proba, f"model '{name}' (not refitted: '{target}' holds none of its seeds)"
    kind = clf.kind if clf.kind in FAST_KINDS else "embedding"
    key = (*scored.key, target, rounds, kind)
    with _CACHE_LOCK:
        hit = _REFITS.get(key)
    if hit is None:
        data = [s for s in human if s.status == "accepted" and s.label in clf.scheme.labels]
        same_body = {"embedder": clf.info.params["embedder"]} if clf.kind == kind == "embedding" else {}
        refit = train(data, clf.scheme, kind, **same_body)  # an embedding model keeps its sentence body
        hit = (np.asarray(refit.predict_proba(scored.texts), dtype=np.float64), len(data))
        with _CACHE_LOCK:
            _REFITS[key] = hit
            while len(_REFITS) > CACHED:
                _REFITS.popitem(last=False)
    return hit[0], f"{kind} refitted on {hit[1]} texts of '{target}' (round {rounds + 1})"


def _embeddings(store: Store, pool: str, texts: list[str], language: str) -> np.ndarray:
    """The pool's sentence embeddings, by the embedder that grounded it (else by language)."""
    from sentiforge.classifiers.embedding import encode
    from sentiforge.embeddings import embedder_for_language

    embedder = store.dataset(pool).meta.get("embedder") or embedder_for_language(language).name
    return encode(str(embedder), texts)


def _pool_text(store: Store, pool: str, pool_id: int) -> Sample:
    """The pool's sample with that id (404 when the id is not the pool's)."""
    page = store.sample_page(store.dataset_id(pool), status=None, after=pool_id - 1, limit=1)
    if not page or page[0].id != pool_id:
        raise NotFoundError(f"pool '{pool}' has no text with id {pool_id}; GET the queue for the ids")
    return page[0]


def _human_samples(store: Store, target: str) -> list[Sample]:
    try:
        dataset_id = store.dataset_id(target)
    except NotFoundError:
        return []
    return list(store.iter_samples(dataset_id, status=None))


def _labelled_pool_ids(human: list[Sample], pool: str) -> dict[int, str]:
    """Pool ids labelled in the human dataset, each with who labelled it and when."""
    out = {}
    for s in human:
        p = s.provenance.params
        if s.provenance.strategy == HUMAN and p.get("pool") == pool and isinstance(p.get("pool_id"), int):
            out[int(p["pool_id"])] = f"by {p.get('reviewer')} at {p.get('labelled_at')}"
    return out


def _human_dataset(
    store: Store, target: str, scheme: Any, model: str, pool: str, clf: Any, datasets: Path | None
) -> int:
    """The human seed dataset's id; created (with the model's seeds copied in) when missing."""
    try:
        found = store.dataset(target)
    except NotFoundError:
        found = None
    if found is not None:
        if not found.meta.get(HUMAN):
            raise ConflictError(f"dataset '{target}' exists and is not a human seed dataset; name another (into)")
        if list(found.scheme.labels) != list(scheme.labels):
            raise ConflictError(f"dataset '{target}' has labels {list(found.scheme.labels)}, the model {scheme.labels}")
        return found.id
    seeds, note = _model_seeds(store, clf, scheme, datasets)
    meta = {HUMAN: True, "pool": pool, "model": model, "seeds": note}
    dataset_id = store.create_dataset(target, scheme, kind="real", meta=meta)
    store.add_samples(dataset_id, seeds)
    return dataset_id


def _model_seeds(store: Store, clf: Any, scheme: Any, datasets: Path | None) -> tuple[list[Sample], dict[str, Any]]:
    """The labelled seeds the model was trained on, as ``build`` takes them (their train split
    when they have one), ready to copy; with a note of where they came from or why not."""
    from sentiforge.evaluation.inputs import BUILTIN_PREFIXES, FILE_SUFFIXES, load_samples

    source = str(clf.info.training_data.get("source") or "")
    if not source:
        return [], {"copied": 0, "why": "the model does not record its training data"}
    try:
        if source.startswith(BUILTIN_PREFIXES) or Path(source).suffix.lower() in FILE_SUFFIXES:
            samples, _ = load_samples(source, scheme, datasets=datasets)
        else:  # a dataset of this store
            found = store.dataset(source)
            if list(found.scheme.labels) != list(scheme.labels):
                raise ConflictError(f"the model's seeds '{source}' have labels {list(found.scheme.labels)}")
            samples = store.samples(found.id)
    except SentiforgeError as exc:
        return [], {"source": source, "copied": 0, "why": str(exc)}
    if any(s.split == "train" for s in samples):
        samples = [s for s in samples if s.split == "train"]
    kept = [
        s.model_copy(update={"id": None, "split": None, "status": "accepted"})
        for s in samples
        if s.status == "accepted" and s.label in scheme.labels
    ]
    return kept, {"source": source, "copied": len(kept)}
