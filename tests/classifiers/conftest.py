"""Shared data for classifier tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

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


@pytest.fixture(scope="session")
def tiny_lm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seam for reasoner tests: a 2-layer Qwen2-shaped model, random weights, and a byte-level
    BPE tokenizer trained on a few words, saved as a local Hugging Face folder."""
    transformers = pytest.importorskip("transformers")
    tokenizers = pytest.importorskip("tokenizers")
    folder = tmp_path_factory.mktemp("tiny-lm")
    bpe = tokenizers.ByteLevelBPETokenizer()
    words = "the tram bus was great lovely plain usual awful broken rider says ride garbage input reason"
    corpus = [f"Text: {w} {i}\nRationale: {w}\nLabel: positive neutral negative" for i, w in enumerate(words.split())]
    corpus += ["très mauvais très bien", "very positive very negative somewhat"]
    bpe.train_from_iterator(corpus, vocab_size=400, min_frequency=1, special_tokens=["<eos>", "<pad>"])
    tok = transformers.PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token="<eos>", pad_token="<pad>")
    tok.save_pretrained(folder)
    config = transformers.Qwen2Config(
        vocab_size=len(tok),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
        tie_word_embeddings=True,
    )
    transformers.AutoModelForCausalLM.from_config(config).save_pretrained(folder)
    return folder
