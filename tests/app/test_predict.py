"""The model registry: a request names one model, found by one stat, never outside the folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from sentiforge.app.predict import ModelRegistry
from sentiforge.errors import NotFoundError


@pytest.mark.parametrize("name", ["..", ".", "../outside", "a/b", "a\\b", "nul\x00name", "missing"])
def test_a_name_that_is_not_a_model_folder_is_not_found(tmp_path: Path, name: str) -> None:
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "model.json").write_text("{}")  # a model beside the folder, not in it
    (tmp_path / "models" / "a").mkdir(parents=True)
    with pytest.raises(NotFoundError, match="no model named"):
        ModelRegistry(tmp_path / "models").get(name)


class _Explaining:
    """A classifier that writes a rationale with each answer, as the reasoner does."""

    def __init__(self) -> None:
        from sentiforge.labels import get_scheme

        self.scheme = get_scheme("three_class")

    def predict_with_rationale(self, texts: list[str]) -> list[object]:
        from sentiforge.classifiers.reasoner import Reasoned

        return [
            Reasoned("positive", {"negative": 0.1, "neutral": 0.2, "positive": 0.7}, f"it praises: {t}") for t in texts
        ]

    def predict_proba(self, texts: list[str]) -> object:
        raise AssertionError("one pass: the rationale's answer carries the scores")


def test_a_reasoners_rationale_comes_with_its_answer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    registry = ModelRegistry(tmp_path)
    monkeypatch.setattr(registry, "get", lambda model=None: ("why", _Explaining()))
    monkeypatch.setattr(registry.watch, "observe", lambda *a, **k: None)
    name, [answer] = registry.predict(["great staff"])
    assert name == "why" and answer.label == "positive" and answer.rationale == "it praises: great staff"
    assert answer.scores == {"negative": 0.1, "neutral": 0.2, "positive": 0.7}
