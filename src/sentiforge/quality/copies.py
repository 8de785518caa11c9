"""Copies of seeds: a generated text that repeats a real example it was shown, or any real seed.

A generator given few-shot examples sometimes hands one back verbatim or with a word
changed; such a sample adds nothing a classifier did not already have, and it hides in the
"synthetic" share of a dataset. It is rejected with its own reason, so reports count it
apart from duplicates among the synthetic texts and from holdout leaks.

Two places use this, with one notion of "copy" (normalised-text equality, or a Jaccard of
character 5-gram sets at or above a threshold, the duplicate checks' measure):

- generation (:func:`copy_of_examples`): the few-shot examples of the very prompt are
  compared exactly (three texts: no index needed), and the whole seed pool through a
  :class:`SeedCopyIndex`, so the slot retries at once;
- the gate (:class:`SeedCopyCheck`, ``seed_copy``): every sample against every real seed,
  for data made elsewhere or before this check existed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from sentiforge.quality.base import PASS, CheckResult, reject
from sentiforge.samples import Sample, normalize_text

SHINGLE = 5
THRESHOLD = 0.5  # the near-duplicate default (benchmarks/quality): Jaccard of 5-gram sets
REASON_EXAMPLE = "copy of a few-shot example"
REASON_SEED = "copy of a real seed"


def shingles(text: str, k: int = SHINGLE) -> set[str]:
    norm = normalize_text(text)
    if len(norm) <= k:
        return {norm} if norm else set()
    return {norm[i : i + k] for i in range(len(norm) - k + 1)}


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def copy_of_examples(text: str, examples: Sequence[str], threshold: float = THRESHOLD) -> tuple[int, float] | None:
    """The position of the example ``text`` copies (exactly or near) and the Jaccard, or None."""
    mine = shingles(text)
    best: tuple[int, float] | None = None
    for i, example in enumerate(examples):
        sim = 1.0 if normalize_text(example) == normalize_text(text) else jaccard(mine, shingles(example))
        if sim >= threshold and (best is None or sim > best[1]):
            best = (i, sim)
    return best


class SeedCopyIndex:
    """The real seeds, indexed for exact keys and MinHash near copies.

    Without the ``quality`` extra (datasketch) only exact copies are found."""

    def __init__(self, seeds: Sequence[Sample], threshold: float = THRESHOLD, num_perm: int = 64) -> None:
        from sentiforge.errors import MissingExtraError
        from sentiforge.quality.dedup import MinHasher, MinHashIndex

        self.exact: dict[str, int] = {}
        texts, refs = [], []
        for position, seed in enumerate(seeds):
            norm = normalize_text(seed.text)
            if norm:
                self.exact.setdefault(norm, position)
                texts.append(norm)
                refs.append(position)
        self.seeds = list(seeds)
        self.minhash: MinHashIndex | None
        try:
            self.minhash = MinHashIndex(threshold, MinHasher(num_perm, SHINGLE))
        except (ImportError, MissingExtraError):
            self.minhash = None
        if self.minhash is not None and texts:
            for signature, ref in zip(self.minhash.hasher.signatures(texts), refs, strict=True):
                self.minhash.add(signature, ref)

    def find(self, texts: Sequence[str]) -> list[tuple[int, float] | None]:
        """For each text: (position of the seed it copies, estimated Jaccard; 1.0 if exact) or None."""
        normalised = [normalize_text(t) for t in texts]
        found: list[tuple[int, float] | None] = [None] * len(texts)
        todo = []
        for i, norm in enumerate(normalised):
            if norm in self.exact:
                found[i] = (self.exact[norm], 1.0)
            elif norm:
                todo.append(i)
        if self.minhash is not None and todo and len(self.minhash):
            sigs = self.minhash.hasher.signatures([normalised[i] for i in todo])
            for row, i in enumerate(todo):
                found[i] = self.minhash.query(sigs[row])
        return found

    def describe(self, hit: tuple[int, float]) -> str:
        position, sim = hit
        seed = self.seeds[position]
        ident = seed.id if seed.id is not None else f"#{position}"
        how = "exact" if sim >= 1.0 else f"estimated Jaccard {sim:.2f}"
        return f"{REASON_SEED} (seed {ident}, {how})"


class SeedCopyCheck:
    """Rejects samples that copy a real seed, exactly or nearly."""

    name: ClassVar[str] = "seed_copy"

    def __init__(self, seeds: Sequence[Sample], threshold: float = THRESHOLD, num_perm: int = 64) -> None:
        self.index = SeedCopyIndex(seeds, threshold, num_perm)

    def run(self, samples: Sequence[Sample]) -> list[CheckResult]:
        results: list[CheckResult] = []
        for hit in self.index.find([s.text for s in samples]):
            if hit is None:
                results.append(PASS)
            else:
                results.append(reject(self.index.describe(hit), 1 - hit[1], seed=hit[0]))
        return results
