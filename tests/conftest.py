"""Test-wide fixtures: a temporary SENTIFORGE_HOME, and no network beyond loopback; the fakes
registered (importing sentiforge.testing names them: backend, embedder and classifier ``fake``)."""

from __future__ import annotations

import gc
import ipaddress
import os
import socket
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

import sentiforge.testing  # noqa: F401  (registers the fakes)

_real_connect = socket.socket.connect


def _guarded_connect(self: socket.socket, address: object) -> object:
    if isinstance(address, tuple) and address:
        host = str(address[0])
        try:
            ok = ipaddress.ip_address(host).is_loopback
        except ValueError:
            ok = host == "localhost"
        if not ok:
            raise OSError(f"tests may only connect to loopback, not {host}")
    return _real_connect(self, address)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)


_HTTP_LEAKS = ("Unclosed client session", "Unclosed connector", "Unclosed connection")


@pytest.fixture
def no_unclosed_http() -> Iterator[None]:
    """Fails the test when an aiohttp session or connection it opened is left unclosed (aiohttp
    only warns, from a finaliser). Opt-in (tests/backends: autouse): the gc pass costs ~0.1 s."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        yield
        gc.collect()
    leaks = [str(w.message) for w in caught if str(w.message).startswith(_HTTP_LEAKS)]
    for w in caught:
        if not str(w.message).startswith(_HTTP_LEAKS):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    assert not leaks, f"HTTP sessions or connections left open: {leaks}"


@pytest.fixture(autouse=True)
def sentiforge_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Each test gets its own home (database, cache); the joined GGUF models are shared."""
    from sentiforge.config import get_settings

    home = tmp_path / "home"
    monkeypatch.setenv("SENTIFORGE_HOME", str(home))
    monkeypatch.setenv(
        "SENTIFORGE_MODEL_DIR", os.environ.get("SENTIFORGE_MODEL_DIR", str(Path.home() / ".sentiforge" / "models"))
    )
    monkeypatch.delenv("SENTIFORGE_DATABASE_URL", raising=False)
    # job summaries and served input drift use n-gram measures unless a test picks an embedder
    monkeypatch.setenv("SENTIFORGE_DRIFT_EMBEDDER", "none")
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


@pytest.fixture
def datasets_dir() -> Path:
    """The real datasets: the copy packaged with sentiforge unless SENTIFORGE_DATASETS names another."""
    from sentiforge.config import get_settings
    from sentiforge.io.datasets import datasets_root

    return datasets_root(get_settings().datasets)


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
