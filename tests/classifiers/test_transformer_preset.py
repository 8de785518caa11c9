"""The fine-tuned transformer's presets, without MiniLM: which settings a CPU run gets, what
freezing the lower layers freezes, and how an evaluation request asks for them."""

from __future__ import annotations

import pytest

from sentiforge.app.requests import EvaluateRequest
from sentiforge.classifiers.transformer import DEFAULTS, PRESETS, TransformerClassifier, freeze_lower, resolve
from sentiforge.errors import ConfigError
from sentiforge.labels import get_scheme


def test_auto_preset_is_the_cpu_one_without_a_gpu_and_full_with_one() -> None:
    on_cpu = resolve({"preset": "auto"}, "cpu")
    assert on_cpu["preset"] == "cpu"
    assert (on_cpu["max_len"], on_cpu["epochs"], on_cpu["batch_size"]) == (64, 1, 32)
    assert on_cpu["freeze_layers"] == 4 and on_cpu["max_train"] == 2000
    on_gpu = resolve({"preset": "auto"}, "cuda")
    assert on_gpu == {**DEFAULTS, "preset": "full"} and on_gpu["max_train"] is None
    assert resolve({}, "cpu") == {**DEFAULTS, "preset": "full"}  # a plain `train` keeps the full settings


def test_options_given_explicitly_win_over_the_preset() -> None:
    p = resolve({"preset": "auto", "epochs": 2, "max_train": None}, "cpu")
    assert p["epochs"] == 2 and p["max_train"] is None and p["max_len"] == PRESETS["cpu"]["max_len"]
    with pytest.raises(ConfigError, match="unknown transformer preset"):
        TransformerClassifier(get_scheme("binary"), preset="tiny")


def test_freezing_keeps_the_embeddings_and_lower_layers_fixed() -> None:
    transformers = pytest.importorskip("transformers")
    config = transformers.BertConfig(
        vocab_size=40, hidden_size=16, num_hidden_layers=3, num_attention_heads=2, intermediate_size=32
    )
    model = transformers.BertModel(config)
    frozen = freeze_lower(model, 2)
    assert frozen == sum(w.numel() for m in [model.embeddings, *model.encoder.layer[:2]] for w in m.parameters())
    assert all(w.requires_grad for w in model.encoder.layer[2].parameters())
    assert not any(w.requires_grad for w in model.embeddings.parameters())
    assert freeze_lower(model, 0) == 0
    with pytest.raises(ConfigError, match="BERT-shaped"):
        freeze_lower(transformers.GPT2Model(transformers.GPT2Config(n_layer=1, n_embd=8, n_head=2)), 1)


def test_evaluate_request_takes_comma_separated_classifiers_and_the_preset() -> None:
    r = EvaluateRequest(real="vader:tweets", synthetic="syn", classifiers=["tfidf,embedding", "transformer"])
    assert r.classifiers == ["tfidf", "embedding", "transformer"]
    assert r.transformer_preset == "auto" and r.epochs is None
    with pytest.raises(ValueError, match="transformer_preset"):
        EvaluateRequest(real="vader:tweets", synthetic="syn", transformer_preset="fast")
