"""Import and export against both databases: the all-or-nothing import relies on the
database's transaction, so it is checked on PostgreSQL as well as SQLite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sentiforge.errors import DataError
from sentiforge.io.exporters import export_dataset
from sentiforge.io.importers import import_file
from sentiforge.labels import BUILTIN
from sentiforge.store import Store

THREE = BUILTIN["three_class"]


def test_import_is_atomic_and_exports_back(store: Store, tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text("\n".join(json.dumps({"text": f"text {i}", "label": THREE.labels[i % 3]}) for i in range(1200)))
    bad = tmp_path / "bad.jsonl"
    bad.write_text(good.read_text() + '\n{"text": "last", "label": "unsure"}\n')
    result = import_file(store, good, "real", THREE, batch=500, splits={"train": 0.9, "test": 0.1})
    assert result.count == 1200
    with pytest.raises(DataError, match="line 1201"):
        import_file(store, bad, "real", THREE, batch=500)
    assert store.count(result.dataset_id) == 1200
    out = export_dataset(store, "real", tmp_path / "out")  # stored splits
    assert out.counts == {"train": 1080, "test": 120}
    lines = (tmp_path / "out" / "test.jsonl").read_text().splitlines()
    assert sum(json.loads(line)["label"] == "neutral" for line in lines) == 40
