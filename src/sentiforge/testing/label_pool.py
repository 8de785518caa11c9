"""A small label-queue setup for tests: labelled seeds and an unlabelled pool in a store, and a
``fake`` classifier trained on the seeds, saved where the service looks for models."""

from __future__ import annotations

from pathlib import Path

from sentiforge.classifiers.registry import train
from sentiforge.labels import get_scheme
from sentiforge.samples import Sample
from sentiforge.store import Store

SEEDS = {
    "negative": ["awful service, never again", "rude staff and a broken door", "terrible food, cold and late"],
    "neutral": ["the shop opens at nine", "my order number is on the receipt", "the bus stops by the park"],
    "positive": ["wonderful staff, loved it", "great food and a warm welcome", "lovely room, would come back"],
}
POOL = [
    *(f"awful {w}, rude and terrible" for w in ("queue", "delivery", "manager", "refund", "checkout")),
    *(f"wonderful {w}, great and lovely" for w in ("garden", "dessert", "driver", "concert", "hotel")),
    *(f"the {w} opens at nine by the park" for w in ("bakery", "library", "pharmacy", "museum", "bank")),
    *(f"great {w} but rude staff" for w in ("view", "price", "coffee", "music", "menu")),
    *(f"lovely {w}, terrible {v}" for w, v in (("beach", "parking"), ("pool", "wifi"), ("bed", "noise"))),
]


def build_label_pool(store: Store, classifiers: Path, name: str = "lp") -> tuple[str, str, str]:
    """Seeds ``<name>-seeds``, pool ``<name>-pool`` (fake embeddings) and model ``<name>-model``."""
    scheme = get_scheme("three_class")
    seeds = [Sample(text=t, label=label) for label, texts in SEEDS.items() for t in texts]
    seeds_id = store.create_dataset(f"{name}-seeds", scheme, kind="real")
    store.add_samples(seeds_id, seeds)
    pool_id = store.create_dataset(f"{name}-pool", scheme, kind="real", meta={"unlabelled": True, "embedder": "fake"})
    store.add_samples(pool_id, [Sample(text=t) for t in POOL])
    clf = train(seeds, scheme, "fake", dataset={"source": f"{name}-seeds"})
    clf.save(Path(classifiers) / f"{name}-model")
    return f"{name}-seeds", f"{name}-pool", f"{name}-model"
