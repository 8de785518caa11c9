"""Input drift: off-domain served texts are flagged, in-domain ones are not."""

from __future__ import annotations

import random

from sentiforge.io.datasets import load_vader
from sentiforge.quality.drift import InputDrift


def test_off_domain_texts_raise_the_drift_and_in_domain_ones_do_not() -> None:
    tweets = load_vader("tweets", "three_class")
    random.Random(0).shuffle(tweets)
    train, held = tweets[:2000], tweets[2000:2300]
    drift = InputDrift([s.text for s in train], [s.label for s in train], window=300)
    drift.observe((s.text for s in held), (s.label for s in held))
    same = drift.report()
    assert same["flagged"] == [], same
    off = load_vader("nyt", "three_class")[:300]  # news sentences, not tweets
    drift.observe((s.text for s in off), ("negative" for _ in off))  # a skewed predicted label mix too
    moved = drift.report()
    assert {"vocabulary", "label_mix"} <= set(moved["flagged"]), moved  # type: ignore[arg-type]
    shift, same_shift = moved["shift"], same["shift"]
    assert shift["unseen_words"] > same_shift["unseen_words"]  # type: ignore[index]
