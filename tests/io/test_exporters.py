"""Exports: every format reads back, splits are stratified, HF folders load with ClassLabel
names, metadata describes the data and how it was made, rejects come out with reasons."""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from sentiforge.app.jobs import run_recipe
from sentiforge.errors import ConfigError, DataError
from sentiforge.io.exporters import export_dataset
from sentiforge.io.importers import ColumnMap, import_file
from sentiforge.labels import BUILTIN, Aspect
from sentiforge.recipe import BackendSpec, Recipe, StepSpec
from sentiforge.samples import Sample
from sentiforge.store import Store
from sentiforge.testing import FakeBackend

THREE = BUILTIN["three_class"]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'export.db'}") as store:
        yield store


@pytest.fixture
def real(store: Store) -> int:
    ds = store.create_dataset("real", THREE, kind="real")
    store.add_samples(
        ds,
        [
            Sample(text=f"sample {i}", label=THREE.labels[i % 3], attributes={"domain": ["bank", "telecom"][i % 2]})
            for i in range(60)
        ],
    )
    store.add_samples(ds, [Sample(text="<no answer>", status="rejected", reason="invalid output: not JSON")])
    return ds


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_jsonl_splits_are_stratified_and_complete(store: Store, real: int, tmp_path: Path) -> None:
    result = export_dataset(store, "real", tmp_path / "out", splits={"train": 0.8, "validation": 0.1, "test": 0.1})
    assert result.counts == {"train": 48, "validation": 6, "test": 6}
    assert list(result.files) == ["train", "validation", "test"]
    rows = {split: read_jsonl(tmp_path / "out" / name) for split, name in result.files.items()}
    assert Counter(r["label"] for r in rows["test"]) == {"negative": 2, "neutral": 2, "positive": 2}
    ids = [r["id"] for part in rows.values() for r in part]
    assert len(ids) == len(set(ids)) == 60
    assert rows["train"][0].keys() == {"id", "text", "label", "language", "attributes", "split"}
    assert not (tmp_path / "out" / "rejected.jsonl").exists()


def test_csv_round_trips_through_the_importer(store: Store, real: int, tmp_path: Path) -> None:
    result = export_dataset(store, "real", tmp_path / "out", format="csv", seed=3)
    with (tmp_path / "out" / "train.csv").open(newline="", encoding="utf-8") as f:
        header = next(csv.reader(f))
    assert header == ["id", "text", "label", "language", "split", "domain"]
    columns = ColumnMap(split="split", attributes=("domain",))
    for name in result.files.values():
        import_file(store, tmp_path / "out" / name, "again", THREE, columns=columns)
    again = store.dataset_id("again")
    before = {(s.text, s.label, s.attributes["domain"]) for s in store.samples(real)}
    assert {(s.text, s.label, s.attributes["domain"]) for s in store.samples(again)} == before
    assert store.count(again, by="split") == result.counts


def test_stored_splits_are_kept_when_none_are_asked_for(store: Store, real: int, tmp_path: Path) -> None:
    ids = [s.id for s in store.samples(real)]
    store.set_splits([(i, "test") for i in ids[:10] if i is not None])
    result = export_dataset(store, "real", tmp_path / "out", format="jsonl")
    assert result.counts == {"train": 50, "test": 10}  # samples without a stored split go to train
    meta = json.loads(result.metadata_path.read_text())
    assert meta["splits"]["how"].startswith("stored")


def test_parquet_with_rejects_and_rationale(store: Store, real: int, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    store.add_samples(real, [Sample(text="why not", label="neutral", rationale="because", split="train")])
    result = export_dataset(store, "real", tmp_path / "out", format="parquet", include_rejected=True)
    assert result.rejected == 1 and result.files["rejected"] == "rejected.parquet"
    train = pq.read_table(tmp_path / "out" / "train.parquet")
    assert train.column_names == ["id", "text", "label", "language", "rationale", "split", "domain"]
    rejected = pq.read_table(tmp_path / "out" / "rejected.parquet").to_pylist()
    assert [(r["text"], r["reason"]) for r in rejected] == [("<no answer>", "invalid output: not JSON")]


def test_hf_folder_loads_with_class_label_names(store: Store, real: int, tmp_path: Path) -> None:
    import datasets

    result = export_dataset(store, "real", tmp_path / "hf", format="hf", include_rejected=True)
    loaded = datasets.load_from_disk(str(tmp_path / "hf"))
    assert list(loaded) == ["train", "validation", "test", "rejected"]
    assert {k: loaded[k].num_rows for k in ("train", "validation", "test")} == result.counts
    feature = loaded["train"].features["label"]
    assert feature.names == list(THREE.labels)
    originals = {s.id: s.label for s in store.samples(real)}
    for row in loaded["test"]:
        assert feature.int2str(row["label"]) == originals[row["id"]]
    assert loaded["rejected"][0]["reason"] == "invalid output: not JSON" and loaded["rejected"][0]["label"] is None
    assert (tmp_path / "hf" / "metadata.json").is_file()


def test_hf_multi_label_and_aspect_schemes(store: Store, tmp_path: Path) -> None:
    import datasets

    emo = store.create_dataset("emo", BUILTIN["emotions"], kind="real")
    store.add_samples(emo, [Sample(text=f"e{i}", labels=["joy", "trust"] if i % 2 else ["anger"]) for i in range(10)])
    export_dataset(store, "emo", tmp_path / "emo", format="hf", splits={"train": 0.5, "test": 0.5})
    got = datasets.load_from_disk(str(tmp_path / "emo"))["train"]
    names = got.features["labels"].feature.names
    assert names == list(BUILTIN["emotions"].labels)
    assert sorted(tuple(names[i] for i in row["labels"]) for row in got) == [("anger",)] * 3 + [("joy", "trust")] * 2
    absa = store.create_dataset("absa", BUILTIN["aspect"], kind="real")
    aspects = [Aspect(term="screen", polarity="positive", category="display")]
    store.add_samples(absa, [Sample(text=f"screen {i}", aspects=aspects) for i in range(4)])
    export_dataset(store, "absa", tmp_path / "absa", format="hf", splits={"train": 1.0})
    row = datasets.load_from_disk(str(tmp_path / "absa"))["train"][0]
    polarity = datasets.load_from_disk(str(tmp_path / "absa"))["train"].features["aspects"].feature["polarity"]
    assert row["aspects"][0]["term"] == "screen" and polarity.int2str(row["aspects"][0]["polarity"]) == "positive"


async def test_metadata_describes_counts_provenance_and_extra(store: Store, tmp_path: Path) -> None:
    recipe = Recipe(
        name="demo", backend=BackendSpec(kind="fake"), steps=[StepSpec(params={"count": 12, "rationale": True})]
    )
    result = await run_recipe(recipe, store, "synth", backend=FakeBackend())
    assert result.done == 12
    out = export_dataset(store, "synth", tmp_path / "out", extra_metadata={"synthetic_share": 0.4})
    meta = json.loads(out.metadata_path.read_text())
    assert meta["scheme"]["labels"] == list(THREE.labels) and meta["kind"] == "synthetic"
    assert meta["counts"]["total"] == 12 and meta["counts"]["by_label"] == dict.fromkeys(THREE.labels, 4)
    assert sum(meta["splits"]["counts"].values()) == 12
    assert {s: sum(v.values()) for s, v in meta["counts"]["by_split_and_label"].items()} == meta["splits"]["counts"]
    prov = meta["provenance"]
    assert prov["strategies"] == {"generate": 12} and prov["models"] == {"fake-1": 12}
    assert [(j["recipe"], j["steps"], j["done"]) for j in prov["jobs"]] == [("demo", ["generate"], 12)]
    assert meta["extra"] == {"synthetic_share": 0.4}
    assert "rationale" in read_jsonl(tmp_path / "out" / "train.jsonl")[0]


def test_refuses_a_non_empty_folder_and_unknown_format(store: Store, real: int, tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="not empty"):
        export_dataset(store, "real", tmp_path / "busy")
    export_dataset(store, "real", tmp_path / "busy", overwrite=True)
    assert (tmp_path / "busy" / "notes.txt").read_text() == "mine"
    with pytest.raises(ConfigError, match="unknown export format 'xml'"):
        export_dataset(store, "real", tmp_path / "x", format="xml")  # type: ignore[arg-type]
    store.create_dataset("empty", THREE)
    with pytest.raises(DataError, match="no accepted samples"):
        export_dataset(store, "empty", tmp_path / "e")
