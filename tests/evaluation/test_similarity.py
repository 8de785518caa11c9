"""Distribution similarity: each measure moves the right way, with a real-vs-real scale."""

from __future__ import annotations

import numpy as np
import pytest

from sentiforge.errors import DataError
from sentiforge.evaluation import similarity as sim
from sentiforge.samples import Sample

RNG = np.random.default_rng(0)


def _cloud(n: int, shift: float, dim: int = 16) -> np.ndarray:
    return RNG.normal(size=(n, dim)) + shift


def test_mmd_and_frechet_are_near_zero_for_one_distribution_and_grow_with_shift() -> None:
    a, b, far = _cloud(300, 0), _cloud(300, 0), _cloud(300, 1.0)
    bw = sim.median_bandwidth(np.vstack([a, far]), RNG)
    assert abs(sim.mmd_rbf(a, b, bw)) < 0.01
    assert sim.mmd_rbf(a, far, bw) > 0.1
    assert sim.frechet(a, b) < 2.0 < sim.frechet(a, far)
    # 1-D check of the closed form: N(0,1) vs N(3,4) -> 9 + 1 + 4 - 2*2 = 10
    x = RNG.normal(0, 1, size=(20000, 1))
    y = RNG.normal(3, 2, size=(20000, 1))
    assert sim.frechet(x, y) == pytest.approx(10.0, rel=0.05)


def test_discriminator_tells_apart_only_what_differs() -> None:
    same = sim.discriminator(_cloud(200, 0), _cloud(200, 0))
    apart = sim.discriminator(_cloud(200, 0), _cloud(200, 2.0))
    assert 0.35 < same["accuracy"] < 0.65
    assert apart["accuracy"] > 0.95 and apart["auc"] > 0.99


def test_embedding_distances_have_a_real_vs_real_baseline() -> None:
    d = sim.embedding_distances(_cloud(400, 0), _cloud(300, 0.8))
    assert d["mmd"]["real_vs_synthetic"] > d["mmd"]["real_vs_real"]
    assert d["frechet"]["ratio"] > 3
    with pytest.raises(DataError):
        sim.embedding_distances(_cloud(5, 0), _cloud(5, 0))


def test_distinct_n_and_self_bleu_measure_diversity() -> None:
    assert sim.distinct_n(["a b c", "d e f"], 1) == 1.0
    assert sim.distinct_n(["a b", "a b"], 2) == 0.5
    same = ["the movie was really great fun"] * 50
    varied = [f"text {i} with word{i} and thing{i * 7} plus item{i * 13}" for i in range(50)]
    assert sim.self_bleu(same) == pytest.approx(1.0)
    assert sim.self_bleu(varied) < 0.3


def test_compare_reports_every_section(yelp_split: tuple[list[Sample], list[Sample]], amazon: list[Sample]) -> None:
    real, _ = yelp_split
    out = sim.compare(real, amazon, embedder="fake", seed=0)
    assert set(out) >= {"length", "length_histogram", "vocabulary", "diversity", "labels", "embedding", "projection"}
    assert out["labels"]["total_variation"] < 0.05  # both sets are balanced
    assert len(out["projection"]["real"]) == min(800, len(real))
    assert sum(out["length_histogram"]["real"]) == len(real)
    assert 0 < out["vocabulary"]["jaccard"] < 1
    assert out["embedding"]["discriminator"]["accuracy"] > out["embedding"]["discriminator_real_vs_real"]["accuracy"]
    assert "embedding" not in sim.compare(real, amazon, embedder=None)
