from __future__ import annotations

import random
from collections import Counter

import pytest

from sentiforge.errors import ConfigError, DataError
from sentiforge.io.datasets import load_uci
from sentiforge.io.splits import (
    DEFAULT_SPLITS,
    assign,
    parse_splits,
    presplit,
    split_real,
    split_samples,
    train_holdout,
)
from sentiforge.quality.leakage import check_leakage
from sentiforge.samples import Sample


def test_parse_splits_forms() -> None:
    assert parse_splits("0.8,0.1,0.1") == {"train": 0.8, "validation": 0.1, "test": 0.1}
    assert parse_splits("0.7, 0.3") == {"train": 0.7, "test": 0.3}
    assert parse_splits("train=0.75,holdout=0.25") == {"train": 0.75, "holdout": 0.25}
    assert parse_splits("none") == {"train": 1.0}


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("0.8,0.1", "sum to 0.9"),
        ("a,b", "cannot read"),
        ("0.5,0.2,0.2,0.1", "cannot read"),
        ("train=0.5,Test!=0.5", "split name"),
        ("train=1.2,test=-0.2", "fraction"),
        ("0.8,x=0.2", "cannot read"),
    ],
)
def test_parse_splits_rejects_bad_specs(spec: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        parse_splits(spec)


def items(per_label: dict[str, int]) -> list[tuple[int, str]]:
    out, key = [], 0
    for label, n in per_label.items():
        for _ in range(n):
            out.append((key, label))
            key += 1
    return out


def test_assign_is_stratified_exact_and_seeded() -> None:
    data = items({"neg": 500, "neu": 300, "pos": 200})
    plan = assign(data, DEFAULT_SPLITS, seed=1)
    by = Counter((label, plan[key]) for key, label in data)
    assert by[("neg", "train")] == 400 and by[("neg", "validation")] == 50 and by[("neg", "test")] == 50
    assert by[("neu", "train")] == 240 and by[("pos", "test")] == 20
    shuffled = data[:]
    random.Random(5).shuffle(shuffled)
    assert assign(shuffled, DEFAULT_SPLITS, seed=1) == plan  # input order does not matter
    other = assign(data, DEFAULT_SPLITS, seed=2)
    assert other != plan and Counter(other.values()) == Counter(plan.values())


def test_small_labels_do_not_all_round_into_one_split() -> None:
    data = items({f"label{i:02d}": 5 for i in range(30)})  # 150 items, 5 per label
    counts = Counter(assign(data, DEFAULT_SPLITS).values())
    assert counts == {"train": 120, "validation": 15, "test": 15}


def test_train_holdout_and_split_samples() -> None:
    assert train_holdout(0.2) == pytest.approx({"train": 0.8, "holdout": 0.2})
    samples = [Sample(text=f"t{i}", label="pos" if i % 2 else "neg") for i in range(20)]
    parts = split_samples(samples, train_holdout(0.3), seed=3)
    assert {k: len(v) for k, v in parts.items()} == {"train": 14, "holdout": 6}
    assert all(s.split == "holdout" for s in parts["holdout"])
    assert Counter(s.label for s in parts["holdout"]) == {"pos": 3, "neg": 3}
    assert {s.text for s in parts["train"]}.isdisjoint({s.text for s in parts["holdout"]})


def test_split_real_is_stratified_seeded_and_deduplicated() -> None:
    train, hold = split_real(load_uci("yelp"), holdout=0.3, seed=0)
    assert {s.split for s in train} == {"train"} and {s.split for s in hold} == {"holdout"}
    assert len(hold) / (len(train) + len(hold)) == pytest.approx(0.3, abs=0.01)
    pos = lambda xs: sum(s.label == "positive" for s in xs) / len(xs)  # noqa: E731
    assert pos(train) == pytest.approx(pos(hold), abs=0.01)
    assert not check_leakage(hold, near=False, real_train=train).positions
    data = [Sample(text=f"text number {i % 50}", label="positive" if i % 2 else "negative") for i in range(100)]
    a, b = split_real(data, seed=3)
    assert len(a) + len(b) == 50  # duplicates folded before splitting
    assert [s.text for s in split_real(data, seed=3)[1]] == [s.text for s in b]
    assert presplit([*a, *b]) is not None and presplit(a) is None
    with pytest.raises(DataError):
        split_real(data[:2])
