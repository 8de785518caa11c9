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
