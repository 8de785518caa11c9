"""Quality over time: a run whose label mix, rejects and judge agreement shift is flagged
against the run before; a steady run is not. Also over HTTP."""

from __future__ import annotations

from pathlib import Path

from sentiforge.labels import get_scheme
from sentiforge.quality.gate import QualityRecord
from sentiforge.quality.history import quality_history
from sentiforge.quality.records import write_records
from sentiforge.samples import Sample
from sentiforge.store import Store


def _run(store: Store, dataset_id: int, samples: list[Sample], *, reject_every: int, judge_off_every: int) -> None:
    run_id = store.start_quality_run(dataset_id, {})
    records = []
    for i, s in enumerate(samples):
        judge = s.label if i % judge_off_every else "neutral"
        checks = {"consistency": {"verdict": "pass", "score": 1.0, "detail": {"judge": judge}}}
        rejected = i % reject_every == 0
        status, by = ("rejected", "length") if rejected else ("accepted", None)
        records.append(QualityRecord(s, status, 0.5 if rejected else 0.9, None, by, checks))
    write_records(store, run_id, dataset_id, records)


def _dataset(store: Store, name: str, labels: list[str]) -> list[Sample]:
    dataset_id = store.create_dataset(name, get_scheme("three_class"))
    store.add_samples(dataset_id, [Sample(text=f"{name} text {i}", label=lb) for i, lb in enumerate(labels)])
    return store.samples(dataset_id)


def test_a_shifted_run_is_flagged_and_a_steady_one_is_not(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 'h.db'}") as store:
        steady = _dataset(store, "d", ["positive", "negative", "neutral"] * 40)
        shifted = _dataset(store, "d2", ["positive"] * 100 + ["negative"] * 20)
        ids = store.dataset_id("d"), store.dataset_id("d2")
        _run(store, ids[0], steady, reject_every=20, judge_off_every=10)
        _run(store, ids[0], steady, reject_every=20, judge_off_every=10)
        first, second = quality_history(store, "d")
        assert first["flagged"] == [] and second["flagged"] == [] and second["change"]["reject_rate"] == 0
        _run(store, ids[1], shifted[:60], reject_every=20, judge_off_every=10)
        _run(store, ids[1], shifted, reject_every=4, judge_off_every=3)
        before, after = quality_history(store, "d2", threshold=0.1)
        assert set(after["flagged"]) >= {"reject_rate", "judge_agreement"}, after
        assert after["labels"]["positive"] > before["labels"]["positive"]
