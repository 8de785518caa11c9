"""The label queue's selection: uncertain before certain, spread over groups of similar texts,
labelled rows left out, the same answer for the same seed."""

from __future__ import annotations

import numpy as np
import pytest

from sentiforge.classifiers.active_learning import margins, select
from sentiforge.errors import ConfigError, DataError


def _blobs(groups: int, per: int, dim: int = 16, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors in ``groups`` tight groups, and each row's group."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(groups, dim))
    rows = np.repeat(np.arange(groups), per)
    vectors = centres[rows] + 0.05 * rng.normal(size=(len(rows), dim))
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True), rows


def _proba(margin: np.ndarray) -> np.ndarray:
    top = (1 + margin) / 2
    return np.stack([top, 1 - top], axis=1)


def test_margins_are_top_minus_runner_up() -> None:
    proba = np.array([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8], [0.34, 0.33, 0.33]])
    assert margins(proba) == pytest.approx([0.2, 0.7, 0.01])


@pytest.mark.parametrize("method", ["margin", "diverse-margin"])
def test_uncertain_texts_come_before_certain_ones(method: str) -> None:
    vectors, _ = _blobs(4, 25)
    margin = np.full(100, 0.9)
    uncertain = [3, 30, 57, 80]  # one per group, so diversity does not hide them
    margin[uncertain] = [0.05, 0.02, 0.1, 0.01]
    picks = select(_proba(margin), vectors, 4, method=method)
    assert [p.index for p in picks] == [80, 30, 3, 57]  # most uncertain first
    assert picks[0].margin == pytest.approx(0.01)


def test_diverse_picks_spread_over_groups_where_margin_alone_piles_up() -> None:
    vectors, group = _blobs(5, 40)
    rng = np.random.default_rng(1)
    margin = rng.uniform(0.3, 1.0, size=200)
    margin[group == 0] = rng.uniform(0.0, 0.1, size=40)  # group 0: the 40 most uncertain texts
    margin[group != 0] = np.minimum(margin[group != 0], rng.uniform(0.1, 0.3, size=160))
    plain = select(_proba(margin), vectors, 5, method="margin")
    diverse = select(_proba(margin), vectors, 5, method="diverse-margin")
    assert {int(group[p.index]) for p in plain} == {0}
    assert {int(group[p.index]) for p in diverse} == {0, 1, 2, 3, 4}
    assert len({p.cluster for p in diverse}) == 5
    # within its group, each pick is the most uncertain candidate
    for p in diverse:
        members = np.flatnonzero(group == group[p.index])
        assert margin[p.index] == pytest.approx(margin[members].min())


@pytest.mark.parametrize("method", ["margin", "diverse-margin", "random"])
def test_labelled_rows_are_left_out(method: str) -> None:
    vectors, _ = _blobs(3, 10)
    margin = np.linspace(0, 1, 30)
    exclude = [0, 1, 2, 15]
    picks = select(_proba(margin), vectors, 26, exclude=exclude, method=method)
    chosen = [p.index for p in picks]
    assert len(chosen) == 26 == len(set(chosen))
    assert not set(chosen) & set(exclude)
    assert select(_proba(margin), vectors, 5, exclude=range(30), method=method) == []


@pytest.mark.parametrize("method", ["diverse-margin", "random"])
def test_the_same_seed_gives_the_same_queue(method: str) -> None:
    vectors, _ = _blobs(6, 50, seed=3)
    margin = np.random.default_rng(4).uniform(size=300)
    first = select(_proba(margin), vectors, 12, method=method, seed=7)
    assert first == select(_proba(margin), vectors, 12, method=method, seed=7)
    others = [select(_proba(margin), vectors, 12, method=method, seed=s) for s in range(8, 12)]
    assert any(o != first for o in others)  # the seed is used


def test_bad_arguments_are_clear_errors() -> None:
    vectors, _ = _blobs(2, 5)
    proba = _proba(np.linspace(0, 1, 10))
    with pytest.raises(ConfigError, match="unknown selection method"):
        select(proba, vectors, 3, method="entropy-ish")
    with pytest.raises(ConfigError, match="at least one"):
        select(proba, vectors, 0)
    with pytest.raises(DataError, match="rows"):
        select(proba[:5], vectors, 3)
    with pytest.raises(DataError, match="two label"):
        margins(np.ones((3, 1)))
