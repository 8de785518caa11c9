"""Unlabelled text as a resource: ground a pool on it, and pseudo-label it.

``ground_file`` reads a file of unlabelled texts (long ones chunked), detects its language,
embeds and clusters it and stores the chunks with their cluster and topic: the pool that
``generate --pool`` grounds prompts on. ``pseudo_label_pool`` labels that pool with the seed
classifier (and the judge) where they are confident, into a dataset of its own that can be
mixed beside synthetic data.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sentiforge.store import Store


@dataclass
class GroundResult:
    dataset: str
    texts: int
    chunks: int
    language: str
    embedder: str
    clusters: dict[int, dict[str, Any]] = field(default_factory=dict)


def ground_file(
    store: Store,
    path: str | Path,
    dataset: str,
    *,
    text_column: str = "text",
    language: str = "auto",
    embedder: str = "auto",
    clusters: int | None = None,
    scheme: str = "three_class",
    seed: int = 0,
) -> GroundResult:
    """Store the file's texts (chunked) as an unlabelled pool with clusters and topics."""
    from sentiforge.embeddings import embedder_for_language, get_embedder
    from sentiforge.grounding import ground, read_texts
    from sentiforge.labels import get_scheme
    from sentiforge.language import resolve_language

    texts = read_texts(path, text_column=text_column)
    lang = resolve_language(language, texts)
    model = embedder_for_language(lang) if embedder == "auto" else get_embedder(embedder)
    samples = [s.model_copy(update={"language": lang}) for s in ground(texts, model, k=clusters, seed=seed)]
    sizes = Counter(s.attributes["cluster"] for s in samples)
    topics = {s.attributes["cluster"]: s.attributes["topic"] for s in samples}
    summary = {c: {"size": n, "topic": topics[c]} for c, n in sorted(sizes.items())}
    meta = {"unlabelled": True, "source": Path(path).name, "embedder": model.name, "clusters": summary}
    dataset_id = store.create_dataset(dataset, get_scheme(scheme), kind="real", meta=meta)
    store.add_samples(dataset_id, samples)
    return GroundResult(dataset, len(texts), len(samples), lang, model.name, summary)


def pseudo_label_pool(
    store: Store,
    pool: str,
    seeds: str,
    dataset: str,
    *,
    seed_split: str | None = "train",
    target_precision: float = 0.9,
    judge_client: Any = None,
    balance: bool = True,
    accept_lower: bool = False,
    datasets: Path | None = None,
) -> dict[str, Any]:
    """Label the pool where the seed classifier (and the judge, if given) are confident;
    the labelled texts go to ``dataset`` (kind ``pseudo``). Returns the summary; a QualityError
    (nothing stored) when the seeds cannot promise the precision asked and ``accept_lower`` is off.
    Built-in seeds (``vader:*``, ``uci:*``) come from ``datasets``, else the packaged copy."""
    from sentiforge.errors import QualityError
    from sentiforge.quality.judge_calibration import describe
    from sentiforge.quality.pseudo_labels import pseudo_label
    from sentiforge.quality.runner import load_reference

    scheme = store.scheme(pool)  # the scheme given when the pool was grounded
    labelled = load_reference(store, seeds, seed_split, datasets)
    texts = store.samples(store.dataset_id(pool))
    judge = _calibrated_judge(judge_client, scheme, labelled)
    english = (labelled[0].language if labelled else "en").startswith("en")
    try:
        result = pseudo_label(
            texts,
            labelled,
            scheme,
            target_precision=target_precision,
            judge=judge,
            lexicon=english,
            balance=balance,
            accept_lower=accept_lower,
        )
    finally:
        if judge is not None:
            judge.close()
    if result.refused:
        raise QualityError(result.refused)
    summary = {"pool": pool, "seeds": seeds, **result.summary()}
    if judge is not None and judge.calibration is not None:
        summary["judge"] = describe(judge.calibration)  # how far the judge can be trusted, label by label
    dataset_id = store.create_dataset(dataset, scheme, kind="pseudo", meta={"pseudo_labels": summary})
    store.add_samples(dataset_id, result.samples)
    return summary


def _calibrated_judge(judge_client: Any, scheme: Any, labelled: list[Any]) -> Any:
    """The pseudo-labels' judge, its per-label thresholds calibrated on the seeds; None without a client."""
    if judge_client is None:
        return None
    from sentiforge.quality.label_judge import LabelJudge

    judge = LabelJudge(judge_client, scheme)
    judge.calibrate(labelled)
    return judge
