"""The real labelled sets, their one split and the seed draws that the few-label benchmarks share
(realism, build, active_learning): one home, so their figures are on the same data."""

from __future__ import annotations

import random

from sentiforge.io.datasets import load_builtin
from sentiforge.io.splits import dedupe, split_real
from sentiforge.labels import LabelScheme, get_scheme
from sentiforge.samples import Sample

DATASETS = {
    "tweets": (["vader:tweets"], "three_class"),
    "uci": (["uci:amazon", "uci:imdb", "uci:yelp"], "binary"),
}
# another English domain (editorial snippets, 3-class), for benchmarks that check they hold beyond the two above
MORE_DATASETS = {"nyt": (["vader:nyt"], "three_class")}


def real_split(name: str) -> tuple[LabelScheme, list[Sample], list[Sample]]:
    """A set's scheme and its train and test splits: deduplicated, 30% test, seed 0."""
    specs, scheme_name = {**DATASETS, **MORE_DATASETS}[name]
    scheme = get_scheme(scheme_name)
    real = dedupe([s for spec in specs for s in load_builtin(spec, scheme)])
    train, test = split_real(real, holdout=0.3, seed=0)
    return scheme, train, test


def stratified(samples: list[Sample], n: int, seed: int) -> tuple[list[Sample], list[Sample]]:
    """n samples in the labels' proportions (seeded), and the rest."""
    rng = random.Random(seed)
    by: dict[str, list[int]] = {}
    for i, s in enumerate(samples):
        by.setdefault(str(s.label), []).append(i)
    chosen: set[int] = set()
    for members in by.values():
        rng.shuffle(members)
        chosen.update(members[: max(5, round(n * len(members) / len(samples)))])
    picked = [samples[i] for i in sorted(chosen)]
    return picked, [s for i, s in enumerate(samples) if i not in chosen]
