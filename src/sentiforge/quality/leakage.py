"""Leakage: synthetic samples that are near-copies of real test/holdout texts.

A generator that saw (or happens to reproduce) a test sentence inflates every score the
synthetic data later earns on that test set. The holdout texts go into the same three
indexes the duplicate checks use (exact key, MinHash-LSH, embeddings); a synthetic sample
that hits any of them is rejected with the holdout text it copies, and the check counts
what it found so the report can say how many leaks there were.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any, ClassVar

from sentiforge.errors import QualityError
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
    ) -> None:
        if not holdout:
            raise QualityError(f"the holdout set '{holdout_name}' is empty; pass a real test split with --holdout")
        self.found: Counter[str] = Counter()
        self.exact: dict[bytes, str] = {}
        self.minhash = MinHashIndex(config.minhash_threshold, MinHasher(dedup.num_perm, dedup.shingle))
        texts, refs = [], []
        for position, sample in enumerate(holdout):
            ref = _ref(sample, position, holdout_name)
            self.exact.setdefault(normalized_key(sample.text), ref)
            norm = normalize_text(sample.text)
            if norm:
                texts.append(norm)
                refs.append(ref)
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
        sigs = self.minhash.hasher.signatures([normalised[i] for i in todo])
        left = []
        for row, i in enumerate(todo):
            exact = self.exact.get(normalized_key(samples[i].text))
            hit = None if exact else self.minhash.query(sigs[row])
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
