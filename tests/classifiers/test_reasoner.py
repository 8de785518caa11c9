"""The reasoner's mechanics on a tiny randomly initialised causal LM saved as a local Hugging
Face folder (loads in well under a second): training lowers the loss, labels always come from
the scheme, save/load round-trips, the device is picked, not required."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sentiforge.classifiers import causal_lm, load_classifier, train
from sentiforge.classifiers.reasoner import Reasoned, ReasonerClassifier, first_sentence
from sentiforge.errors import ConfigError
from sentiforge.labels import get_scheme
from sentiforge.samples import Sample

pytest.importorskip("peft")

WORDS = {"positive": "great lovely", "neutral": "plain usual", "negative": "awful broken"}


def samples(n: int = 24, *, with_rationale: bool = True, language: str = "en") -> list[Sample]:
    """Three-class texts whose word gives the label; three in four carry a rationale."""
    out = []
    for i in range(n):
        label = list(WORDS)[i % 3]
        word = WORDS[label].split()[i % 2]
        why = f"the rider says {word}" if with_rationale and i % 4 else None
        out.append(Sample(text=f"the tram {i} was {word}", label=label, rationale=why, language=language))
    return out


def options(base: Path, **more: Any) -> dict[str, Any]:
    return {"base_model": str(base), "batch_size": 4, "grad_accum": 2, "lr": 5e-3, "epochs": 4, **more}


def test_training_lowers_the_loss_and_answers_with_labels_of_the_scheme(tiny_lm: Path) -> None:
    scheme = get_scheme("three_class")
    clf = train(samples(), scheme, "reasoner", **options(tiny_lm))
    assert isinstance(clf, ReasonerClassifier)
    assert len(clf.losses) == 4 * 3 and np.mean(clf.losses[-3:]) < np.mean(clf.losses[:3])
    answers = clf.predict_with_rationale(["the tram 99 was great", "something unrelated entirely"])
    assert all(isinstance(a, Reasoned) and a.label in scheme.labels for a in answers)
    assert all(set(a.scores) == set(scheme.labels) and abs(sum(a.scores.values()) - 1) < 1e-5 for a in answers)
    assert all(a.rationale for a in answers)  # the line is forced to open with "Rationale:"
    proba = clf.predict_proba(["the tram 99 was great"])
    assert proba.shape == (1, 3) and abs(proba.sum() - 1) < 1e-5
    assert clf.info.metrics["training"]["device"] == "cpu"


def test_a_trained_model_writes_back_the_rationale_it_was_taught(tiny_lm: Path) -> None:
    """Train and predict must agree on the prompt: after enough full fine-tuning steps the tiny
    model writes the taught rationale (not an empty line, not the label line), ends it at the
    newline and answers a label of the scheme. A non-empty check alone passes on ':::::'."""
    scheme = get_scheme("three_class")
    clf = train(samples(), scheme, "reasoner", **options(tiny_lm, lora=False, lr=1e-2, epochs=10, grad_accum=1))
    assert clf.losses[-1] < 1.5 < clf.losses[0]
    answers = clf.predict_with_rationale(["the tram 99 was great", "the tram 98 was awful"])
    for a in answers:
        assert a.rationale.startswith("the rider says"), a.rationale
        assert "Label" not in a.rationale and "\n" not in a.rationale and a.label in scheme.labels


def test_a_rationale_is_one_sentence_and_never_loops_on_a_phrase(tiny_lm: Path) -> None:
    """Gemma-270M after 16 LoRA steps wrote "I'm always looking for ways to make my life better."
    three times over, up to the token cap (and 15 s a tweet): the rationale stops at the end of
    its first sentence and greedy decoding may not repeat a 3-token phrase."""
    looped = "I'm always looking for ways to make my life better. I'm always looking for ways to make"
    assert first_sentence(looped) == "I'm always looking for ways to make my life better."
    assert first_sentence("It says 3.5 stars, fine! And more\nLabel: positive") == "It says 3.5 stars, fine!"
    assert first_sentence("no end in sight") == "no end in sight"
    clf = train(samples(), get_scheme("three_class"), "reasoner", **options(tiny_lm, max_steps=0))
    lead = clf._ids("Rationale:")
    for ids in clf._continue([clf._prompt(f"the tram {i} was great") + lead for i in range(4)]):
        ids = [i for i in ids if i != clf._tok.pad_token_id]
        trigrams = [tuple(ids[i : i + 3]) for i in range(len(ids) - 2)]
        assert ids and len(trigrams) == len(set(trigrams)), ids  # untrained, it wrote ':::...' before


def test_constrained_decoding_never_leaves_the_scheme_even_untrained(tiny_lm: Path) -> None:
    """With no training step (random weights) every answer is still one of the scheme's labels."""
    scheme = get_scheme("seven_level")
    data = [Sample(text=f"ride {i}", label=scheme.labels[i % 7], rationale=f"reason {i}") for i in range(14)]
    clf = train(data, scheme, "reasoner", **options(tiny_lm, max_steps=0))
    assert clf.losses == [] and clf.info.metrics["training"]["steps"] == 0
    texts = [f"garbage input {i} ###" for i in range(10)]
    answers = clf.predict_with_rationale(texts)
    assert all(a.label in scheme.labels for a in answers)
    assert clf.predict_proba(texts).shape == (10, 7)


def test_saved_reasoner_reloads_and_predicts_the_same(tiny_lm: Path, tmp_path: Path) -> None:
    scheme = get_scheme("three_class")
    clf = train(samples(), scheme, "reasoner", **options(tiny_lm, epochs=1))
    folder = clf.save(tmp_path / "reasoner")
    assert (folder / "adapter.safetensors").is_file() and (folder / "model.json").is_file()
    assert not list(folder.rglob("*.bin")) and not list(folder.rglob("*.pkl"))
    again = load_classifier(folder)
    texts = ["the tram 5 was awful", "the tram 6 was usual"]
    before, after = clf.predict_with_rationale(texts), again.predict_with_rationale(texts)  # type: ignore[attr-defined]
    assert [a.label for a in after] == [b.label for b in before]
    assert [a.rationale for a in after] == [b.rationale for b in before]
    np.testing.assert_allclose(again.predict_proba(texts), clf.predict_proba(texts), atol=1e-5)
    assert again.info.versions["peft"] != "not installed" and again.info.training_data["size"] == 24


def test_full_fine_tuning_saves_the_whole_model(tiny_lm: Path, tmp_path: Path) -> None:
    scheme = get_scheme("binary")
    data = [s for s in samples(30) if s.label != "neutral"]
    clf = train(data, scheme, "reasoner", **options(tiny_lm, lora=False, lr=1e-3, epochs=1))
    folder = clf.save(tmp_path / "full")
    assert (folder / "model.safetensors").is_file() and not (folder / "adapter.safetensors").exists()
    again = load_classifier(folder)
    np.testing.assert_allclose(
        again.predict_proba(["the tram 1 was great"]), clf.predict_proba(["the tram 1 was great"]), atol=1e-5
    )


def test_labels_alone_without_rationales_and_french(tiny_lm: Path) -> None:
    scheme = get_scheme("three_class")
    clf = train(samples(with_rationale=False, language="fr"), scheme, "reasoner", **options(tiny_lm, epochs=1))
    assert clf.info.training_data["language"] == "fr"
    assert [a.rationale for a in clf.predict_with_rationale(["le tram était très mauvais"])] == [""]


def test_a_gpu_is_used_when_present_and_never_required(monkeypatch: pytest.MonkeyPatch) -> None:
    torch = causal_lm.torch_module()
    assert causal_lm.pick_device("cpu") == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert causal_lm.pick_device() == "cpu" and causal_lm.compute_dtype("cpu") == torch.float32
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    assert causal_lm.pick_device() == "cuda" and causal_lm.compute_dtype("cuda") == torch.bfloat16


def test_bad_options_and_schemes_are_refused(tiny_lm: Path) -> None:
    with pytest.raises(ConfigError, match="multi-label"):
        ReasonerClassifier(get_scheme("emotions"))
    with pytest.raises(ConfigError, match="unknown reasoner option"):
        ReasonerClassifier(get_scheme("binary"), temperature=2)
    with pytest.raises(ConfigError, match="unknown base model"):
        causal_lm.base_file("no-such-model")
    with pytest.raises(ConfigError, match="not trained"):
        ReasonerClassifier(get_scheme("binary")).predict(["x"])


def test_answer_only_logits_score_exactly_like_the_full_sequence(tiny_lm: Path) -> None:
    """The loss is computed from logits kept only from the first answer token on; it must equal
    the loss over full-sequence logits."""
    import torch

    clf = train(samples(), get_scheme("three_class"), "reasoner", **options(tiny_lm, max_steps=0))
    rows = [clf._prompt(t) + clf._answer(r) for t, r in [("the tram 1 was great", "good"), ("a b c d e f g", None)]]
    ids, mask, target = clf._batch(rows, [len(clf._prompt("the tram 1 was great")), len(clf._prompt("a b c d e f g"))])
    with torch.no_grad():
        fast = clf._row_losses(ids, mask, target)
        logits = clf._model(input_ids=ids, attention_mask=mask).logits[:, :-1]
        full = torch.nn.functional.cross_entropy(
            logits.transpose(1, 2), target[:, 1:], ignore_index=-100, reduction="none"
        )
        expected = full.sum(1) / (target[:, 1:] != -100).sum(1)
    torch.testing.assert_close(fast, expected, atol=1e-5, rtol=1e-5)
