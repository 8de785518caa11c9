"""The gate: runs the checks over a dataset in batches and gives every sample a record.

Order matters and is fixed: cheap filters first (they also shield the heavier checks from
empty, huge or binary input), then leakage (every copy of a holdout text counts as a
leak), copies of the real seeds (``seed_copy``), exact duplicates, lexical and paraphrase
near-duplicates, and last the label consistency check (an LLM call per sample, so it only sees samples still standing).
A sample a check rejects is not shown to later checks; its record keeps that reason.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sentiforge.labels import LabelScheme
from sentiforge.quality.base import Check, CheckResult
from sentiforge.quality.config import QualityConfig
from sentiforge.quality.score import quality_score
from sentiforge.samples import Sample, text_hash


@dataclass
class QualityRecord:
    """The gate's decision on one sample."""

    sample: Sample
    status: str  # accepted | rejected
    score: float
    reason: str | None = None
    rejected_by: str | None = None
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)
    review: str | None = None  # why it goes to the review queue, if it does


class BatchEmbeddings:
    """Wraps an embedder so a text met by two checks in one batch is encoded once."""

    def __init__(self, embedder: Any) -> None:
        self.embedder = embedder
        self.name = embedder.name
        self.dim = embedder.dim
        self._memo: dict[str, np.ndarray] = {}

    def encode(self, texts: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._memo))
        if missing:
            self._memo.update(zip(missing, self.embedder.encode(missing), strict=True))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._memo[t] for t in texts])

    def clear(self) -> None:
        self._memo.clear()


def audit_draw(sample: Sample, seed: int) -> float:
    """A uniform number in [0, 1) fixed by the sample (id, else text) and the seed."""
    key = f"{seed}|{sample.id if sample.id is not None else text_hash(sample.text)}"
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big") / 2**64


class Gate:
    def __init__(self, checks: Sequence[Check], config: QualityConfig, *, embeddings: BatchEmbeddings | None = None):
        self.checks = list(checks)
        self.config = config
        self.embeddings = embeddings
        self.counts: Counter[str] = Counter()
        self.seconds: dict[str, float] = {}  # time spent per check: where a slow run goes

    def evaluate(self, batch: Sequence[Sample]) -> list[QualityRecord]:
        """One batch through every check, in order (state carries over to the next batch)."""
        results: list[dict[str, CheckResult]] = [{} for _ in batch]
        alive = list(range(len(batch)))
        for check in self.checks:
            if not alive:
                break
            start = time.perf_counter()
            outcome = check.run([batch[i] for i in alive])
            self.seconds[check.name] = self.seconds.get(check.name, 0.0) + time.perf_counter() - start
            for i, result in zip(alive, outcome, strict=True):
                results[i][check.name] = result
            alive = [i for i in alive if results[i][check.name].verdict != "reject"]
        if self.embeddings is not None:
            self.embeddings.clear()
        return [self._record(sample, res) for sample, res in zip(batch, results, strict=True)]

    def _record(self, sample: Sample, results: dict[str, CheckResult]) -> QualityRecord:
        score = quality_score(results, self.config.weights)
        rejected = next(((n, r) for n, r in results.items() if r.verdict == "reject"), None)
        checks = {n: r.as_dict() for n, r in results.items()}
        if rejected is not None:
            self.counts["rejected"] += 1
            self.counts[f"rejected:{rejected[0]}"] += 1
            return QualityRecord(sample, "rejected", score, rejected[1].reason, rejected[0], checks)
        flags = [f"{n}: {r.reason}" for n, r in results.items() if r.verdict == "flag"]
        self.counts["accepted"] += 1
        if flags:
            self.counts["flagged"] += 1
        review = None
        cfg = self.config.review
        if score < cfg.threshold:
            review = f"score {score:.2f} below {cfg.threshold:.2f}" + (f" ({'; '.join(flags)})" if flags else "")
        elif audit_draw(sample, cfg.seed) < cfg.audit_share:
            review = "random audit"
        if review:
            self.counts["review"] += 1
        return QualityRecord(sample, "accepted", score, "; ".join(flags) or None, None, checks, review)

    def run(self, samples: Iterable[Sample]) -> Iterator[QualityRecord]:
        """Stream records for a stream of samples, a batch at a time."""
        batch: list[Sample] = []
        for sample in samples:
            batch.append(sample)
            if len(batch) >= self.config.batch_size:
                yield from self.evaluate(batch)
                batch = []
        if batch:
            yield from self.evaluate(batch)

    def leaks(self) -> dict[str, int]:
        for check in self.checks:
            found = getattr(check, "found", None)
            if check.name == "leakage" and found is not None:
                return dict(found)
        return {}


def pick_embedder(config: QualityConfig, language: str) -> Any:
    """The embedder the config names; ``auto`` is MiniLM for English, multilingual otherwise."""
    from sentiforge.embeddings import embedder_for_language, get_embedder

    name = config.dedup.embedder
    return embedder_for_language(language) if name == "auto" else get_embedder(name)


def build_gate(
    config: QualityConfig,
    scheme: LabelScheme,
    *,
    language: str = "en",
    holdout: Sequence[Sample] | None = None,
    holdout_name: str = "holdout",
    seeds: Sequence[Sample] | None = None,
    judge_client: Any = None,
    embedder: Any = None,
) -> Gate:
    """The standard gate for a config. ``embedder=None`` picks one by config and language;
    pass ``embedder=False`` to skip the embedding checks."""
    from sentiforge.quality.consistency import build_consistency
    from sentiforge.quality.copies import SeedCopyCheck
    from sentiforge.quality.dedup import ExactDedupCheck, NearDupCheck, SemanticDupCheck
    from sentiforge.quality.filters import FilterCheck
    from sentiforge.quality.leakage import LeakageCheck

    d, c = config.dedup, config.consistency
    use_embeddings = embedder is not False and (d.embedding or (config.leakage.enabled and holdout))
    memo = BatchEmbeddings(embedder or pick_embedder(config, language)) if use_embeddings else None
    threshold = d.embedding_thresholds.get(memo.name, 0.9) if memo else 0.9
    checks: list[Check] = [FilterCheck(config.filters)]
    if config.leakage.enabled and holdout:
        leak_threshold = config.leakage.embedding_thresholds.get(memo.name, 0.9) if memo else 0.9
        checks.append(
            LeakageCheck(
                holdout, config.leakage, d, holdout_name=holdout_name, embedder=memo, embedding_threshold=leak_threshold
            )
        )
    if d.seed_copies and seeds:
        checks.append(SeedCopyCheck(seeds, d.minhash_threshold, d.num_perm))
    if d.exact:
        checks.append(ExactDedupCheck())
    if d.minhash:
        checks.append(NearDupCheck(d.minhash_threshold, d.num_perm, d.shingle))
    if d.embedding and memo is not None:
        checks.append(SemanticDupCheck(memo, threshold))
    consistency = build_consistency(scheme, c, language=language, judge_client=judge_client, seeds=seeds)
    if consistency is not None:
        checks.append(consistency)
    return Gate(checks, config, embeddings=memo)
