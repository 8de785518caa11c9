"""Shared data for classifier tests."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from sentiforge.labels import get_scheme
from sentiforge.samples import Sample

EMOTIONS = get_scheme("emotions")


def make_emotion_samples(n: int = 240, seed: int = 0) -> list[Sample]:
    """Multi-label texts whose words say which feelings they carry (plus filler noise)."""
    cues = {
        "joy": "delighted happy",
        "anger": "furious outraged",
        "sadness": "tearful gloomy",
        "fear": "scared terrified",
    }
    filler = ["the bus was late", "we met at noon", "it rained again", "my phone rang", "the shop opened"]
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        k = 1 + int(rng.random() < 0.4)
        labels = sorted(rng.choice(list(cues), size=k, replace=False).tolist(), key=EMOTIONS.labels.index)
        words = " ".join(cues[x].split()[int(rng.integers(0, 2))] for x in labels)
        out.append(Sample(text=f"{filler[i % 5]} and I felt {words} about it", labels=labels))
    return out


@pytest.fixture
def emotion_samples() -> Callable[..., list[Sample]]:
    return make_emotion_samples
