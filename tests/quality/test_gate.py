"""The gate over a stored dataset: every sample gets a record, rejects keep their reason,
bad input never crashes, review items are queued, and a rerun re-examines gate rejects only."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from sentiforge.backends import LLMClient
from sentiforge.labels import get_scheme
from sentiforge.quality import records
from sentiforge.quality.config import QualityConfig
from sentiforge.quality.gate import build_gate
from sentiforge.quality.review_queue import ReviewQueue
from sentiforge.quality.runner import run_quality
from sentiforge.samples import Sample
from sentiforge.store import Store
from sentiforge.testing import FakeBackend

SCHEME = get_scheme("three_class")
BAD = [
    "",
    "x" * 100_000,
    "\x00\x01\x02\x03\x04\x05junk\x06\x07",
    "これはとても良い製品です、本当に満足しています 本当に",
]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'q.db'}") as store:
        yield store


def _stored(store: Store, tweets: list[Sample]) -> list[Sample]:
    """A 'synthetic' set of 300 real tweets with planted problems; a real test set and seeds."""
    test = tweets[:200]
    synthetic = list(tweets[1000:1300])
    synthetic += [synthetic[0].model_copy(), synthetic[1].model_copy(update={"text": synthetic[1].text.upper()})]
    synthetic += [test[0].model_copy(), test[1].model_copy(update={"text": test[1].text + "!!"})]
    synthetic += [Sample(text="As an AI language model, I cannot write that tweet.", label="negative")]
    synthetic += [Sample(text=t, label="neutral") for t in BAD]
    store.add_samples(store.create_dataset("syn", SCHEME), synthetic)
    store.add_samples(store.create_dataset("real-test", SCHEME, kind="real"), test)
    store.add_samples(store.create_dataset("real-seeds", SCHEME, kind="real"), tweets[300:1000])
    return synthetic


def test_every_sample_gets_a_record_and_rejects_keep_their_reason(
    store: Store, tweets: list[Sample], fast_config: QualityConfig
) -> None:
    synthetic = _stored(store, tweets)
    judge = LLMClient(FakeBackend())  # random labels from the scheme: a poor judge
    summary = run_quality(store, "syn", fast_config, holdout="real-test", seeds="real-seeds", judge_client=judge)
    assert summary.examined == len(synthetic)
    counts = store.quality_record_counts(summary.run_id)
    assert sum(counts["by_status"].values()) == len(synthetic)
    by_check = counts["rejected_by_check"]
    assert by_check["filters"] >= 5 and by_check["exact_dup"] >= 2 and by_check["leakage"] >= 2
    assert summary.leaks["exact"] >= 2
    rejects = list(store.iter_quality_rejects(summary.run_id))
    assert len(rejects) == sum(by_check.values())
    assert all(r.reason and r.rejected_by for r in rejects)
    bad = {r.text[:20]: r.reason for r in rejects if r.rejected_by == "filters"}
    assert bad[""] == "empty text" and bad["x" * 20].startswith("too long")
    # Nothing dropped: rejected samples stay in the store, marked with the gate's reason.
    dataset_id = store.dataset_id("syn")
    assert store.count(dataset_id, status=None) == len(synthetic)
    stored_rejects = [s for s in store.iter_samples(dataset_id, status="rejected")]
    assert len(stored_rejects) == len(rejects)
    assert all((s.reason or "").startswith("quality: ") for s in stored_rejects)


def test_rejects_export_and_review_queue(
    store: Store, tweets: list[Sample], fast_config: QualityConfig, tmp_path: Path
) -> None:
    _stored(store, tweets)
    fast_config.review.audit_share = 0.05
    summary = run_quality(store, "syn", fast_config, holdout="real-test", seeds="real-seeds")
    out = tmp_path / "rejects.jsonl"
    n = records.export_rejects(store.iter_quality_rejects(summary.run_id), out)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert n == len(lines) >= 10
    assert {"sample_id", "text", "label", "rejected_by", "reason", "score", "checks"} <= set(lines[0])
    csv_path = tmp_path / "rejects.csv"
    assert records.export_rejects(store.iter_quality_rejects(summary.run_id), csv_path) == n
    queue = ReviewQueue(store).counts("syn")
    assert queue.get("pending", 0) == summary.counts.get("review", 0) > 0


def test_a_rerun_re_examines_gate_rejects_but_keeps_review_decisions(
    store: Store, tweets: list[Sample], fast_config: QualityConfig
) -> None:
    _stored(store, tweets)
    fast_config.review.audit_share = 0.05
    first = run_quality(store, "syn", fast_config)
    item = ReviewQueue(store).next("syn")[0]
    ReviewQueue(store).reject(item.id, by="alice")
    fast_config.filters.min_words = 0
    fast_config.dedup.exact = fast_config.dedup.minhash = fast_config.dedup.embedding = False
    second = run_quality(store, "syn", fast_config)
    # The second run looks at the first run's rejects again (dedup off: they come back) ...
    assert second.examined == first.examined - 1
    assert second.counts["rejected"] < first.counts["rejected"]
    # ... but not at the sample a person rejected.
    assert store.get_sample(item.sample_id).status == "rejected"
    assert store.get_sample(item.sample_id).reason == "review: rejected by alice"


def test_gate_streams_batches_with_dedup_state_across_them(tweets: list[Sample], fast_config: QualityConfig) -> None:
    fast_config.batch_size = 50
    rng = random.Random(3)
    data = tweets[:200] + [tweets[rng.randrange(200)].model_copy() for _ in range(20)]
    gate = build_gate(fast_config, SCHEME, embedder=False)
    recs = list(gate.run(data))
    assert len(recs) == 220
    assert all(r.status == "rejected" and r.rejected_by == "exact_dup" for r in recs[200:])
    assert set(gate.seconds) == {"filters", "exact_dup", "near_dup"}


def test_the_gate_takes_the_language_of_the_samples(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from sentiforge.labels import get_scheme
    from sentiforge.quality.runner import dataset_language
    from sentiforge.samples import Sample
    from sentiforge.store import Store

    store = Store(f"sqlite:///{tmp_path}/t.db")
    d = store.create_dataset("fr", get_scheme("three_class"))
    store.add_samples(d, [Sample(text=f"Le colis est arrivé {i}", label="neutral", language="fr") for i in range(3)])
    assert dataset_language(store, store.dataset("fr")) == "fr"  # not English by default any more
