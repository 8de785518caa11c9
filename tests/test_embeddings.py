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
