"""The embedder seam: normalised float32 vectors, one cached model per name."""

from __future__ import annotations

import numpy as np
import pytest

from sentiforge.embeddings import cosine_pairs, embedder_for_language, get_embedder
from sentiforge.errors import ConfigError, DataError


def test_fake_is_deterministic_normalised_and_word_sensitive() -> None:
    emb = get_embedder("fake")
    vectors = emb.encode(["the battery is great", "the battery is great", "awful screen quality today"])
    assert vectors.dtype == np.float32 and vectors.shape == (3, emb.dim)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] == pytest.approx(1.0, abs=1e-5)
    assert vectors[0] @ vectors[2] < 0.5


def test_empty_input_and_empty_text() -> None:
    emb = get_embedder("fake")
    assert emb.encode([]).shape == (0, emb.dim)
    assert np.all(emb.encode([""]) == 0)  # no words: a zero vector, not NaN


def test_unknown_name_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown embedder"):
        get_embedder("word2vec")


def test_cache_returns_the_same_instance() -> None:
    assert get_embedder("fake") is get_embedder("fake")
    assert get_embedder("e5") is get_embedder("multilingual")


def test_cosine_pairs_needs_equal_lengths() -> None:
    with pytest.raises(DataError, match="same length, got 1 and 0"):
        cosine_pairs(get_embedder("fake"), ["a"], [])


@pytest.mark.parametrize("name", ["minilm", "multilingual"])
def test_real_models_rank_a_paraphrase_above_an_unrelated_sentence(name: str) -> None:
    emb = get_embedder(name)
    sims = cosine_pairs(
        emb,
        ["The food was delicious and cheap.", "The food was delicious and cheap."],
        ["The meal was tasty and inexpensive.", "My laptop battery died after an hour."],
    )
    assert emb.dim == 384
    assert sims[0] > sims[1] + 0.1  # E5's cosines are compressed into ~0.7..1.0


def test_multilingual_aligns_french_with_english() -> None:
    emb = embedder_for_language("fr")
    assert emb.name == "multilingual"
    sims = cosine_pairs(
        emb,
        ["Le service était très lent.", "Le service était très lent."],
        ["The service was very slow.", "I love this phone's camera."],
    )
    assert sims[0] > sims[1]


class _Counting:
    """A second embedder beside the fake one: counts the texts it is asked to encode."""

    name = "counting"
    dim = 4

    def __init__(self) -> None:
        self.seen: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.seen.extend(texts)
        out = np.ones((len(texts), self.dim), dtype=np.float32)
        out[:, 0] = [len(t) for t in texts]
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_joined_embedders_sit_side_by_side_at_unit_length() -> None:
    from sentiforge.embeddings import register_embedder

    register_embedder("counting", _Counting)
    joined = get_embedder("fake+counting")
    texts = ["the battery is great", "awful screen"]
    vectors = joined.encode(texts)
    fake, counting = get_embedder("fake").encode(texts), get_embedder("counting").encode(texts)
    assert joined.name == "fake+counting" and joined.dim == vectors.shape[1] == fake.shape[1] + counting.shape[1]
    assert np.allclose(vectors * np.sqrt(2), np.hstack([fake, counting]), atol=1e-6)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    with pytest.raises(ConfigError, match="twice"):
        get_embedder("fake+fake")
    with pytest.raises(ConfigError, match="unknown embedder 'glove'"):
        get_embedder("fake+glove")


def test_a_joined_embedders_parts_are_memoised_apart() -> None:
    """The classifier's memo computes a text's vectors once per model, alone or joined."""
    from sentiforge.classifiers.embedding import encode
    from sentiforge.embeddings import register_embedder

    register_embedder("counting", _Counting)
    counting = get_embedder("counting")
    assert isinstance(counting, _Counting)
    texts = ["memo one, never seen before", "memo two, never seen before"]
    alone = encode("counting", texts)
    joined = encode("fake+counting", texts)
    assert counting.seen.count(texts[0]) == 1  # not encoded again for the joined vectors
    assert np.allclose(joined[:, -counting.dim :] * np.sqrt(2), alone, atol=1e-6)


def test_a_joined_name_with_an_unknown_part_is_named_whole_and_cut() -> None:
    with pytest.raises(ConfigError, match=r"unknown embedder '' in 'fake\+'"):
        get_embedder("fake+")
    with pytest.raises(ConfigError) as err:
        get_embedder("fake+" + "x" * 3000)
    assert len(str(err.value)) < 300
