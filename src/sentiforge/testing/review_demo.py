"""A review queue to look at: a synthetic dataset with seed parents, two strategies, gate
records with judge and classifier opinions, every sample queued. For the review API's and the
review page's tests, and for a demo (`python -m sentiforge.testing.review_demo DB_URL`)."""

from __future__ import annotations

import sys
from typing import Any

from sentiforge.labels import get_scheme
from sentiforge.quality.gate import QualityRecord
from sentiforge.quality.records import write_records
from sentiforge.samples import Provenance, Sample
from sentiforge.store import Store

TEXTS = {
    "positive": ["The staff were lovely and quick", "Best pizza I had this year", "Support fixed it in minutes"],
    "negative": ["The app crashes every morning", "Waited an hour for cold food", "Rude agent hung up on me"],
    "neutral": ["The shop opens at nine", "My parcel arrived on Tuesday", "I changed my billing address"],
}


def build_queue(store: Store, name: str = "reviewme", copies: int = 2, items: int | None = None) -> int:
    """``copies`` x 9 queued items over two strategies (the first ``items`` of them when
    given); returns the dataset id."""
    scheme = get_scheme("three_class")
    seeds_id = store.create_dataset(f"{name}-seeds", scheme, kind="real")
    store.add_samples(seeds_id, [Sample(text=f"seed: {t}", label=lb) for lb, ts in TEXTS.items() for t in ts])
    parents = {s.label: s.id for s in store.samples(seeds_id)}
    dataset_id = store.create_dataset(name, scheme)
    made = [
        Sample(
            text=f"{t} (take {c + 1})",
            label=label,
            attributes={"persona": "student" if c % 2 else "retiree", "length": "short"},
            provenance=Provenance(strategy="seeded" if i % 2 else "generate", parent_id=parents[label]),
        )
        for c in range(copies)
        for label, texts in TEXTS.items()
        for i, t in enumerate(texts)
    ][:items]
    store.add_samples(dataset_id, made)
    run_id = store.start_quality_run(dataset_id, {})
    write_records(store, run_id, dataset_id, [_record(s, i) for i, s in enumerate(store.samples(dataset_id))])
    return dataset_id


def _record(sample: Sample, i: int) -> QualityRecord:
    other = "neutral" if sample.label != "neutral" else "positive"
    judged = sample.label if i % 3 else other
    detail = {"judge": judged, "classifier": sample.label, "judge_support": 1.0 if i % 3 else 0.0}
    checks: dict[str, dict[str, Any]] = {
        "consistency": {"verdict": "pass" if i % 3 else "flag", "score": 0.5, "detail": detail},
        "length": {"verdict": "pass", "score": 1.0},
    }
    flags = None if i % 3 else "the judge says " + other
    score = round(0.05 * (i % 10), 2)
    why = f"score {score:.2f} below 0.60" + (f" ({flags})" if flags else "")
    return QualityRecord(sample, "accepted", score, flags, None, checks, review=why)


if __name__ == "__main__":  # pragma: no cover - a demo helper
    with Store(sys.argv[1]) as s:
        print(build_queue(s))
