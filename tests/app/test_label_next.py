"""Label these next in the application layer: rounds (the queue rescored by a refit on the labels
so far), and a model whose seeds cannot be copied."""

from __future__ import annotations

from pathlib import Path

from sentiforge.app.label_next import give_label, queue
from sentiforge.app.predict import ModelRegistry
from sentiforge.store import Store
from sentiforge.testing.label_pool import build_label_pool

TRUTH = {"awful": "negative", "wonderful": "positive", "the": "neutral", "great": "positive", "lovely": "positive"}


def test_the_queue_is_rescored_by_a_refit_every_round(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 'a.db'}") as store:
        _, pool, model = build_label_pool(store, tmp_path / "models")
        registry = ModelRegistry(tmp_path / "models")
        first = queue(store, registry, model, pool, n=5, refit_every=3)
        assert first.scored_by == f"model '{model}'"
        for item in first.items[:3]:
            give_label(store, registry, model, pool, item.id, TRUTH[item.text.split()[0]], by="dana")
        second = queue(store, registry, model, pool, n=25, refit_every=3)
        assert second.scored_by == f"fake refitted on 12 texts of '{pool}-human' (round 2)"  # 9 seeds + 3 labels
        untouched = queue(store, registry, model, pool, n=25, refit_every=100)  # still round 1: the model's own
        assert untouched.scored_by == f"model '{model}'"
        assert {i.id for i in second.items} == {i.id for i in untouched.items}  # the same texts left ...
        refit = {i.id: i.scores for i in second.items}
        assert any(refit[i.id] != i.scores for i in untouched.items)  # ... scored anew


def test_without_the_models_seeds_the_labels_are_kept_and_nothing_is_refitted(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 'b.db'}") as store:
        seeds, pool, model = build_label_pool(store, tmp_path / "models")
        store.delete_dataset(seeds)  # the model's training data is gone
        registry = ModelRegistry(tmp_path / "models")
        item = queue(store, registry, model, pool, n=1, refit_every=1).items[0]
        give_label(store, registry, model, pool, item.id, "neutral", by="erin")
        human = store.dataset(f"{pool}-human")
        assert human.meta["seeds"]["copied"] == 0 and "no dataset 'lp-seeds'" in human.meta["seeds"]["why"]
        assert [s.label for s in store.samples(human.id)] == ["neutral"]
        assert "not refitted" in queue(store, registry, model, pool, n=1, refit_every=1).scored_by
