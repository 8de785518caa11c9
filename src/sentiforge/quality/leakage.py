"""Leakage: training items (synthetic or real) that copy a real test/holdout text.

A generator that saw (or happens to reproduce) a test sentence inflates every score the
synthetic data later earns on that test set. The holdout texts go into the same three
indexes the duplicate checks use (exact key, MinHash-LSH, embeddings); a sample that hits
any of them is rejected with the holdout text it copies, and the check counts what it found
so the report can say how many leaks there were.

This is the one implementation: the quality gate runs :class:`LeakageCheck` over synthetic
batches, and evaluation calls :func:`check_leakage` on every training set before it scores
(exact copies always; MinHash near copies when the ``quality`` extra is installed). Mixing
also drops what leaks by provenance, a sample made from a real one outside the training
split (:func:`without_holdout_parents`), whatever its text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sentiforge.errors import MissingExtraError, QualityError
from sentiforge.quality.base import PASS, CheckResult, reject
from sentiforge.quality.config import DedupConfig, LeakageConfig
from sentiforge.quality.dedup import EmbeddingIndex, MinHasher, MinHashIndex, normalized_key
from sentiforge.samples import Sample, normalize_text


def _ref(sample: Sample, position: int, name: str) -> str:
    ident = sample.id if sample.id is not None else f"#{position}"
    return f"holdout '{name}' sample {ident}"


class LeakageCheck:
    """Rejects synthetic samples that copy (exactly, lexically or by paraphrase) a holdout text."""

    name: ClassVar[str] = "leakage"

    def __init__(
        self,
        holdout: Sequence[Sample],
        config: LeakageConfig,
        dedup: DedupConfig,
        *,
        holdout_name: str = "holdout",
        embedder: Any = None,
        embedding_threshold: float = 0.9,
        near: bool = True,
    ) -> None:
        if not holdout:
            raise QualityError(f"the holdout set '{holdout_name}' is empty; pass a real test split with --holdout")
        self.found: Counter[str] = Counter()
        self.exact: dict[bytes, str] = {}
        self.minhash: MinHashIndex | None = None  # near=False: exact copies only, no datasketch needed
        if near:
            self.minhash = MinHashIndex(config.minhash_threshold, MinHasher(dedup.num_perm, dedup.shingle))
        texts, refs = [], []
        for position, sample in enumerate(holdout):
            ref = _ref(sample, position, holdout_name)
            self.exact.setdefault(normalized_key(sample.text), ref)
            norm = normalize_text(sample.text)
            if norm:
                texts.append(norm)
                refs.append(ref)
        if self.minhash is not None:
            for signature, ref in zip(self.minhash.hasher.signatures(texts), refs, strict=True):
                self.minhash.add(signature, ref)
        self.embedder = embedder
        self.vectors: EmbeddingIndex | None = None
        if embedder is not None:
            self.vectors = EmbeddingIndex(embedding_threshold, embedder.dim)
            originals = [s.text for s in holdout]
            for vector, position in zip(embedder.encode(originals), range(len(holdout)), strict=True):
                self.vectors.add(vector, _ref(holdout[position], position, holdout_name))

    def run(self, samples: Sequence[Sample]) -> list[CheckResult]:
        results: list[CheckResult] = [PASS] * len(samples)
        normalised = [normalize_text(s.text) for s in samples]
        todo = [i for i, t in enumerate(normalised) if t]
        sigs = self.minhash.hasher.signatures([normalised[i] for i in todo]) if self.minhash is not None else None
        left = []
        for row, i in enumerate(todo):
            exact = self.exact.get(normalized_key(samples[i].text))
            hit = None if exact or self.minhash is None or sigs is None else self.minhash.query(sigs[row])
            if exact:
                results[i] = self._leak("exact", f"leak: exact copy of {exact}", 0.0, exact)
            elif hit is not None:
                ref, sim = hit
                results[i] = self._leak("near", f"leak: near copy of {ref} (estimated Jaccard {sim:.2f})", 1 - sim, ref)
            else:
                left.append(i)
        if self.vectors is not None and left:
            best, sims = self.vectors.nearest(self.embedder.encode([samples[i].text for i in left]))
            for i, key, sim in zip(left, best, sims, strict=True):
                if key >= 0 and sim >= self.vectors.threshold:
                    ref = self.vectors.refs[int(key)]
                    results[i] = self._leak("paraphrase", f"leak: paraphrase of {ref} (cosine {sim:.2f})", 1 - sim, ref)
        return results

    def _leak(self, kind: str, reason: str, score: float, ref: str) -> CheckResult:
        self.found[kind] += 1
        return reject(reason, max(0.0, score), leak=kind, holdout=ref)


@dataclass
class LeakageReport:
    """Training items that copy a holdout text, by training set name."""

    checked: int
    method: str
    positions: dict[str, list[int]] = field(default_factory=dict)  # indices into each training set
    examples: dict[str, list[str]] = field(default_factory=dict)

    @property
    def leaked(self) -> int:
        return sum(len(v) for v in self.positions.values())

    @property
    def clean(self) -> bool:
        return self.leaked == 0

    def summary(self) -> dict[str, object]:
        return {
            "holdout_checked": self.checked,
            "method": self.method,
            "leaked": {k: len(v) for k, v in self.positions.items()},
            "examples": {k: v[:5] for k, v in self.examples.items()},
            "clean": self.clean,
        }


def _holdout_check(holdout: Sequence[Sample], near: bool) -> LeakageCheck:
    """The gate's check over the holdout: with MinHash when asked and installed, else exact only."""
    if near:
        try:
            return LeakageCheck(holdout, LeakageConfig(), DedupConfig())
        except (ImportError, MissingExtraError):
            pass
    return LeakageCheck(holdout, LeakageConfig(), DedupConfig(), near=False)


def check_leakage(holdout: Sequence[Sample], *, near: bool = True, **training: Sequence[Sample]) -> LeakageReport:
    """Exact normalised-text copies of a holdout text in each training set, plus MinHash near
    copies when ``near`` and the quality extra is installed."""
    if not holdout:
        return LeakageReport(checked=0, method="exact")
    check = _holdout_check(holdout, near)
    report = LeakageReport(checked=len(check.exact), method="exact" if check.minhash is None else "exact+minhash")
    for name, samples in training.items():
        hits = [i for i, r in enumerate(check.run(list(samples))) if r.verdict == "reject"]
        if hits:
            report.positions[name] = hits
            report.examples[name] = [samples[i].text for i in hits[:5]]
    return report


def drop_positions(samples: Sequence[Sample], positions: Sequence[int]) -> list[Sample]:
    """The samples without those at ``positions`` (the leaked ones a report names)."""
    gone = set(positions)
    return [s for i, s in enumerate(samples) if i not in gone]


def without_holdout_parents(samples: Iterable[Sample], outside: Collection[int]) -> tuple[list[Sample], int]:
    """The samples not made from a real sample in ``outside`` (ids outside the training split),
    and how many were left out."""
    kept: list[Sample] = []
    leaked = 0
    for s in samples:
        if s.provenance.parent_id in outside:
            leaked += 1
        else:
            kept.append(s)
    return kept, leaked
