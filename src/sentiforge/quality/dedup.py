"""Duplicates: exact (after normalisation), lexical near-copies (MinHash-LSH) and
paraphrase-level copies (sentence-embedding cosine).

Why it is built this way:

- MinHash signatures of character 5-gram sets are computed for a whole batch at once with
  numpy, using datasketch's own ``affine32`` permutations and mixing, so a signature equals
  what ``datasketch.MinHash.update_batch`` gives for the same shingle hashes (tested), at a
  fraction of the per-text cost; the LSH index is datasketch's ``MinHashLSH``. Candidates it
  returns are verified against the stored signatures (estimated Jaccard >= threshold).
- Only kept samples enter an index, so a chain of near-copies keeps its first member.
- The embedding index keeps only vectors of kept samples and compares block-wise with
  matrix products; vectors are L2-normalised, so a product is a cosine.

Indexes keep state across batches: the gate streams a dataset through them in order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from sentiforge.errors import QualityError, require
from sentiforge.quality.base import PASS, CheckResult, reject, sample_ref
from sentiforge.samples import Sample, normalize_text

MINHASH_SEED = 1


def normalized_key(text: str) -> bytes:
    return hashlib.blake2b(normalize_text(text).encode("utf-8"), digest_size=12).digest()


def _fmix32(h: np.ndarray) -> np.ndarray:
    from datasketch.minhash import _fmix  # the mixer datasketch applies to every input hash

    out: np.ndarray = _fmix(h, 32)
    return out


def _mix64_to_32(v: np.ndarray) -> np.ndarray:
    """A 64-bit avalanche (splitmix64 finaliser), folded to 32 bits: the shingle hash."""
    v = v ^ (v >> np.uint64(30))
    v = v * np.uint64(0xBF58476D1CE4E5B9)
    v = v ^ (v >> np.uint64(27))
    v = v * np.uint64(0x94D049BB133111EB)
    v = v ^ (v >> np.uint64(31))
    return (v & np.uint64(0xFFFFFFFF)).astype(np.uint32)


def shingle_hashes(texts: Sequence[str], k: int) -> tuple[np.ndarray, np.ndarray]:
    """32-bit hashes of every k-byte shingle of each (normalised) text, concatenated, and the
    offset where each text's shingles start. A text shorter than k is one shingle. Texts must
    be non-empty. The k bytes are packed exactly into 64 bits before hashing (k <= 8)."""
    if not 2 <= k <= 8:
        raise QualityError(f"shingle size must be between 2 and 8 bytes, got {k}")
    encoded = [t.encode("utf-8") for t in texts]
    lengths = np.fromiter((max(len(b), k) for b in encoded), dtype=np.int64, count=len(encoded))
    buf = np.frombuffer(b"".join(b.ljust(k, b"\0") for b in encoded), dtype=np.uint8).astype(np.uint64)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    counts = lengths - k + 1
    offsets = np.concatenate(([0], np.cumsum(counts)[:-1]))
    positions = np.repeat(starts - offsets, counts) + np.arange(int(counts.sum()))
    packed = np.zeros(len(positions), dtype=np.uint64)
    for j in range(k):
        packed |= buf[positions + j] << np.uint64(8 * j)
    return _mix64_to_32(packed), offsets


class MinHasher:
    """Batch MinHash signatures (datasketch's affine32 scheme) of character shingle sets."""

    def __init__(self, num_perm: int = 64, shingle: int = 5, seed: int = MINHASH_SEED) -> None:
        datasketch: Any = require("datasketch", feature="near-duplicate detection", extra="quality")
        self.num_perm = num_perm
        self.shingle = shingle
        self.seed = seed
        perms = datasketch.MinHash(num_perm=num_perm, seed=seed).permutations
        self.a = perms[0].astype(np.uint32)
        self.b = perms[1].astype(np.uint32)
        self._buf = np.empty((num_perm, 0), dtype=np.uint32)

    def signatures(self, texts: Sequence[str], *, chunk: int = 2000) -> np.ndarray:
        """One row of ``num_perm`` uint32 per text (texts already normalised, non-empty)."""
        out = np.empty((len(texts), self.num_perm), dtype=np.uint32)
        for s in range(0, len(texts), chunk):
            hashes, offsets = shingle_hashes(texts[s : s + chunk], self.shingle)
            mixed = _fmix32(hashes)
            # (perm, shingle) layout: the min-reduction then runs over contiguous runs; the
            # buffer is reused because fresh large arrays cost more in page faults than maths.
            if self._buf.shape[1] < len(mixed):
                self._buf = np.empty((self.num_perm, max(len(mixed), 2 * self._buf.shape[1])), dtype=np.uint32)
            buf = self._buf[:, : len(mixed)]
            np.multiply(self.a[:, None], mixed[None, :], out=buf)
            np.add(buf, self.b[:, None], out=buf)
            out[s : s + len(offsets)] = np.minimum.reduceat(buf, offsets, axis=1).T
        return out

    def lean(self, signature: np.ndarray) -> Any:
        """A datasketch LeanMinHash over the signature, made without re-validating the array
        (it is ours, already uint32 of the affine32 scheme): 3x cheaper per text."""
        from datasketch import LeanMinHash

        lean = object.__new__(LeanMinHash)
        lean.seed, lean.scheme, lean.hashvalues = self.seed, "affine32", signature
        return lean


class MinHashIndex:
    """datasketch MinHashLSH over kept texts, with candidates verified on their signatures.

    Band keys go through Python's ``hash`` (an int is smaller and faster to look up than the
    band's bytes; the index lives in one process, so per-process hash seeds do not matter).
    """

    def __init__(self, threshold: float, hasher: MinHasher) -> None:
        from datasketch import MinHashLSH
        from datasketch.lsh import _optimal_param

        self.threshold = threshold
        self.hasher = hasher
        bands, rows = _optimal_param(threshold, hasher.num_perm, 0.5, 0.5)
        self.lsh = MinHashLSH(threshold=threshold, num_perm=hasher.num_perm, params=(bands, rows), hashfunc=hash)
        from sentiforge.quality._lsh_storage import CompactBuckets, NoKeys

        self.lsh.hashtables = [CompactBuckets() for _ in range(bands)]
        self.lsh.keys = NoKeys()
        self._sigs = np.empty((1024, hasher.num_perm), dtype=np.uint32)
        self.refs: list[Any] = []

    def __len__(self) -> int:
        return len(self.refs)

    def add(self, signature: np.ndarray, ref: Any, lean: Any = None) -> None:
        key = len(self.refs)
        if key == len(self._sigs):
            self._sigs = np.concatenate([self._sigs, np.empty_like(self._sigs)])
        self._sigs[key] = signature
        self.refs.append(ref)
        self.lsh.insert(key, lean if lean is not None else self.hasher.lean(signature), check_duplication=False)

    def query(self, signature: np.ndarray, lean: Any = None) -> tuple[Any, float] | None:
        """The most similar indexed item at or above the threshold, and its estimated Jaccard."""
        candidates = self.lsh.query(lean if lean is not None else self.hasher.lean(signature))
        if not candidates:
            return None
        keys = np.fromiter(candidates, dtype=np.int64, count=len(candidates))
        sims = (self._sigs[keys] == signature).mean(axis=1)
        best = int(np.argmax(sims))
        if sims[best] < self.threshold:
            return None
        return self.refs[int(keys[best])], float(sims[best])


class EmbeddingIndex:
    """Vectors of kept texts; nearest by cosine, computed block-wise."""

    def __init__(self, threshold: float, dim: int, block: int = 50_000) -> None:
        self.threshold = threshold
        self.block = block
        self._vecs = np.empty((1024, dim), dtype=np.float32)
        self.refs: list[Any] = []

    def __len__(self) -> int:
        return len(self.refs)

    def add(self, vector: np.ndarray, ref: Any) -> None:
        key = len(self.refs)
        if key == len(self._vecs):
            self._vecs = np.concatenate([self._vecs, np.empty_like(self._vecs)])
        self._vecs[key] = vector
        self.refs.append(ref)

    def nearest(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each row: the best index key (-1 when empty) and its cosine."""
        best = np.full(len(vectors), -1, dtype=np.int64)
        sims = np.full(len(vectors), -np.inf, dtype=np.float32)
        for s in range(0, len(self.refs), self.block):
            block = self._vecs[s : min(s + self.block, len(self.refs))]
            prod = vectors @ block.T
            arg = prod.argmax(axis=1)
            val = prod[np.arange(len(vectors)), arg]
            better = val > sims
            best[better], sims[better] = arg[better] + s, val[better]
        return best, sims


class ExactDedupCheck:
    """Rejects a sample whose normalised text (case, spaces, punctuation, Unicode form) was seen."""

    name: ClassVar[str] = "exact_dup"

    def __init__(self) -> None:
        self.seen: dict[bytes, str] = {}

    def run(self, samples: Sequence[Sample]) -> list[CheckResult]:
        results = []
        for sample in samples:
            key = normalized_key(sample.text)
            first = self.seen.get(key)
            if first is not None:
                results.append(reject(f"exact duplicate of {first} after normalisation", duplicate_of=first))
            else:
                self.seen[key] = sample_ref(sample, len(self.seen))
                results.append(PASS)
        return results


class NearDupCheck:
    """Rejects lexical near-copies of an earlier kept sample (MinHash-LSH on character 5-grams)."""

    name: ClassVar[str] = "near_dup"

    def __init__(self, threshold: float = 0.5, num_perm: int = 64, shingle: int = 5) -> None:
        self.index = MinHashIndex(threshold, MinHasher(num_perm, shingle))
        self.position = 0

    def run(self, samples: Sequence[Sample]) -> list[CheckResult]:
        normalised = [normalize_text(s.text) for s in samples]
        todo = [i for i, t in enumerate(normalised) if t]
        sigs = self.index.hasher.signatures([normalised[i] for i in todo])
        results: list[CheckResult] = [PASS] * len(samples)
        for row, i in enumerate(todo):
            lean = self.index.hasher.lean(sigs[row])
            hit = self.index.query(sigs[row], lean)
            self.position += 1
            if hit is not None:
                ref, sim = hit
                results[i] = reject(f"near duplicate of {ref} (estimated Jaccard {sim:.2f})", 1 - sim, duplicate_of=ref)
            else:
                self.index.add(sigs[row], sample_ref(samples[i], self.position), lean)
        return results


class SemanticDupCheck:
    """Rejects paraphrase-level copies: cosine of sentence embeddings at or above a threshold."""

    name: ClassVar[str] = "semantic_dup"

    def __init__(self, embedder: Any, threshold: float) -> None:
        self.embedder = embedder
        self.threshold = threshold
        self.index = EmbeddingIndex(threshold, embedder.dim)
        self.position = 0

    def run(self, samples: Sequence[Sample]) -> list[CheckResult]:
        if not samples:
            return []
        vectors = self.embedder.encode([s.text for s in samples])
        before = len(self.index)
        best, sims = self.index.nearest(vectors)
        results: list[CheckResult] = []
        for i, sample in enumerate(samples):
            self.position += 1
            key, sim = int(best[i]), float(sims[i])
            if len(self.index) > before:  # compare with the batch's own kept samples too
                fresh = self.index._vecs[before : len(self.index)] @ vectors[i]
                j = int(fresh.argmax())
                if fresh[j] > sim:
                    key, sim = before + j, float(fresh[j])
            if key >= 0 and sim >= self.threshold:
                ref = self.index.refs[key]
                results.append(reject(f"paraphrase of {ref} (cosine {sim:.2f})", 1 - sim, duplicate_of=ref))
            else:
                self.index.add(vectors[i], sample_ref(sample, self.position))
                results.append(PASS)
        return results
