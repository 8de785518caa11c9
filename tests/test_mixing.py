"""Mixing: the synthetic share is capped, the selection is stratified, seeded and leak-free."""

from __future__ import annotations

from collections import Counter

import pytest

from sentiforge.errors import ConfigError, DataError
from sentiforge.labels import get_scheme
from sentiforge.mixing import mix, quotas, select_synthetic, synthetic_cap
from sentiforge.samples import Provenance, Sample
from sentiforge.store import Store


@pytest.fixture
def store(tmp_path) -> Store:  # type: ignore[no-untyped-def]
    return Store(f"sqlite:///{tmp_path}/t.db")


def real_set(n_pos: int, n_neg: int) -> list[Sample]:
    return [
        Sample(id=i + 1, text=f"real {i}", label="positive" if i < n_pos else "negative", split="train")
        for i in range(n_pos + n_neg)
    ]


def synthetic_set(real: list[Sample], per_seed: int, strategy: str = "cda") -> list[Sample]:
    return [
        Sample(
            id=1000 + r.id * 10 + v,
            text=f"synthetic {r.id}.{v}",
            label=r.label,  # type: ignore[operator]
            provenance=Provenance(strategy=strategy, parent_id=r.id),
        )
        for r in real
        for v in range(per_seed)
    ]


@pytest.mark.parametrize(("n_real", "share", "cap"), [(200, 0.6, 300), (10, 0.5, 10), (7, 0.0, 0), (3, 0.6, 4)])
def test_cap(n_real: int, share: float, cap: int) -> None:
    assert synthetic_cap(n_real, share) == cap


def test_cap_rejects_shares_outside_0_1() -> None:
    with pytest.raises(ConfigError, match="between 0 and 1"):
        synthetic_cap(10, 1.5)


def test_selection_respects_the_cap_and_real_label_proportions() -> None:
    real = real_set(30, 10)
    chosen = select_synthetic(real, synthetic_set(real, 3), 0.6)
    assert len(chosen) == 60 and len(chosen) / (len(chosen) + len(real)) <= 0.6
    assert Counter(s.label for s in chosen) == {"positive": 45, "negative": 15}


def test_selection_spreads_over_seeds_before_taking_second_variants() -> None:
    real = real_set(10, 10)
    chosen = select_synthetic(real, synthetic_set(real, 3), 0.5)  # 20 of 60: one per seed
    assert Counter(s.provenance.parent_id for s in chosen) == {r.id: 1 for r in real}


def test_selection_is_deterministic_and_seeded() -> None:
    real = real_set(10, 10)
    syn = synthetic_set(real, 3)
    a, b = select_synthetic(real, syn, 0.5, seed=1), select_synthetic(real, list(reversed(syn)), 0.5, seed=1)
    assert [s.id for s in a] == [s.id for s in b]
    assert {s.id for s in select_synthetic(real, syn, 0.5, seed=2)} != {s.id for s in a}


def test_the_scarcest_label_limits_the_others_so_the_real_prior_is_kept() -> None:
    assert quotas(Counter(positive=10, negative=10), Counter(positive=2, negative=50), 20) == {
        "positive": 2,
        "negative": 2,
    }
    assert quotas(Counter(positive=30, negative=10), Counter(positive=60, negative=4), 100) == {
        "positive": 12,
        "negative": 4,
    }


def test_spare_quota_flows_to_labels_that_have_more_when_asked() -> None:
    assert quotas(Counter(positive=10, negative=10), Counter(positive=2, negative=50), 20, fill=True) == {
        "positive": 2,
        "negative": 18,
    }


def test_everything_is_kept_under_the_cap() -> None:
    real = real_set(10, 10)
    assert len(select_synthetic(real, synthetic_set(real, 1), 0.6)) == 20


async def test_mix_writes_a_dataset_with_the_report_in_its_metadata(store: Store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from sentiforge.io.exporters import export_dataset

    scheme = get_scheme("binary")
    real_id = store.create_dataset("real", scheme, kind="real")
    store.add_samples(real_id, [s.model_copy(update={"id": None}) for s in real_set(5, 5)])
    store.add_samples(real_id, [Sample(text="held out", label="positive", split="test")])
    stored_real = store.samples(real_id)
    syn_id = store.create_dataset("syn", scheme)
    syn = synthetic_set([r for r in stored_real if r.split == "train"], 3)
    leak = Sample(
        text="made from the test split",
        label="positive",
        provenance=Provenance(strategy="cda", parent_id=stored_real[-1].id),
    )
    store.add_samples(syn_id, [s.model_copy(update={"id": None}) for s in [*syn, leak]])

    report = mix(store, "real", ["syn"], "mixed", max_synthetic_share=0.6)
    assert (report.real, report.synthetic, report.available_synthetic) == (10, 14, 30)  # 7 + 7 keeps 50/50
    assert report.synthetic_share == round(14 / 24, 4) <= 0.6
    assert report.excluded_leaky == 1 and report.per_strategy == {"cda": 14}
    mixed = store.samples(report.dataset_id)  # type: ignore[arg-type]
    assert Counter(s.attributes["origin"] for s in mixed) == {"real": 10, "synthetic": 14}
    assert all(s.split == "train" for s in mixed) and "held out" not in {s.text for s in mixed}
    assert all(s.provenance.parent_id for s in mixed if s.attributes["origin"] == "synthetic")
    export = export_dataset(store, "mixed", tmp_path / "out")
    import json

    meta = json.loads(export.metadata_path.read_text())
    assert meta["provenance"]["dataset_meta"]["mix"]["synthetic_share"] == report.synthetic_share


def test_mix_refuses_mismatched_schemes_and_empty_real_sets(store: Store) -> None:
    store.create_dataset("real", get_scheme("binary"), kind="real")
    store.create_dataset("three", get_scheme("three_class"))
    with pytest.raises(ConfigError, match="mix datasets of one scheme"):
        mix(store, "real", ["three"], "out")
    store.create_dataset("syn", get_scheme("binary"))
    with pytest.raises(DataError, match="no accepted samples in split 'train'"):
        mix(store, "real", ["syn"], "out")
