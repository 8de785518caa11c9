"""Exact, lexical and paraphrase-level duplicates on real sentences with planted copies."""

from __future__ import annotations

import random
from collections.abc import Callable

import numpy as np
from datasketch import MinHash

from sentiforge.embeddings import get_embedder
from sentiforge.quality.dedup import ExactDedupCheck, MinHasher, NearDupCheck, SemanticDupCheck, shingle_hashes
from sentiforge.samples import Sample, normalize_text


def test_batch_signatures_equal_datasketch_minhash(yelp: list[Sample]) -> None:
    texts = [normalize_text(s.text) for s in yelp[:50]] + ["ab", "héllo wörld ünïcode"]
    hasher = MinHasher(num_perm=64, shingle=5)
    signatures = hasher.signatures(texts, chunk=7)  # several chunks, reused buffer
    hashes, offsets = shingle_hashes(texts, 5)
    bounds = [*offsets.tolist(), len(hashes)]
    for i in range(len(texts)):
        reference = MinHash(num_perm=64, seed=1, hashfunc=lambda v: v)
        reference.update_batch([int(h) for h in hashes[bounds[i] : bounds[i + 1]]])
        assert np.array_equal(reference.hashvalues, signatures[i])


def test_exact_duplicates_after_normalisation(yelp: list[Sample]) -> None:
    base = yelp[:300]
    planted = [
        Sample(text=base[0].text.upper()),
        Sample(text="  " + base[1].text.replace(" ", "   ") + " !!!"),
        Sample(text=base[2].text.replace(".", "")),
        Sample(text="ｆｕｌｌｗｉｄｔｈ " + base[3].text),  # not a copy: extra word
    ]
    results = ExactDedupCheck().run(base + planted)
    assert all(r.verdict == "pass" for r in results[:300])
    assert [r.verdict for r in results[300:]] == ["reject", "reject", "reject", "pass"]
    assert results[300].reason == "exact duplicate of item #0 after normalisation"


def test_planted_near_duplicates_are_found_without_false_alarms(
    tweets: list[Sample], edit_words: Callable[[str, random.Random], str]
) -> None:
    rng = random.Random(4)
    base = [s for s in tweets if len(s.text.split()) >= 10][:1500]
    sources = rng.sample(range(len(base)), 100)
    planted = [Sample(text=edit_words(base[i].text, rng)) for i in sources]
    check = NearDupCheck(threshold=0.5)
    results = check.run(base[:800]) + check.run(base[800:] + planted)  # state carries across batches
    false_alarms = [r for r in results[: len(base)] if r.verdict == "reject"]
    found = [r for r in results[len(base) :] if r.verdict == "reject"]
    assert len(false_alarms) <= 8  # real tweets that really are near-copies of each other
    assert len(found) >= 95
    assert "near duplicate of item #" in (found[0].reason or "")


def test_paraphrase_level_copies_with_embeddings(yelp: list[Sample]) -> None:
    base = yelp[:200]
    # Same words in another order: lexically different shingles, the same bag of words.
    planted = [Sample(text=" ".join(reversed(base[i].text.split()))) for i in range(0, 40, 2)]
    check = SemanticDupCheck(get_embedder("fake"), threshold=0.9)
    results = check.run(base) + check.run(planted)
    assert sum(r.verdict == "reject" for r in results[:200]) <= 2
    assert all(r.verdict == "reject" for r in results[200:])
    assert "paraphrase of" in (results[200].reason or "")


def test_within_batch_duplicates_keep_the_first() -> None:
    texts = ["the staff were friendly and quick to help", "The staff were friendly and quick to help!"]
    results = SemanticDupCheck(get_embedder("fake"), threshold=0.95).run([Sample(text=t) for t in texts])
    assert [r.verdict for r in results] == ["pass", "reject"]
