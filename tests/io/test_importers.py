"""Importing real data: column mapping, label normalisation, splits, and bad input that
raises a DataError naming the problem while storing nothing from the file."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sentiforge.errors import DataError
from sentiforge.io.importers import ColumnMap, import_file, read_file
from sentiforge.labels import BUILTIN
from sentiforge.samples import Sample
from sentiforge.store import Store

THREE = BUILTIN["three_class"]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'import.db'}") as store:
        yield store


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


CSV = """\ufeffreview,stars,lang,part,domain
"Great phone, I love it",POS,en,train,phones
Terrible support,neg,en,test,telecom
"It works.
Nothing more to say",0,fr,train,phones
"""


def test_csv_with_a_column_mapping(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", CSV)
    columns = ColumnMap(text="review", label="stars", language="lang", split="part", attributes=("domain",))
    result = import_file(store, path, "reviews", THREE, columns=columns)
    assert result.count == 3 and result.by_label == {"positive": 1, "negative": 1, "neutral": 1}
    got = store.samples(result.dataset_id)
    assert [(s.text, s.label, s.language, s.split, s.attributes) for s in got] == [
        ("Great phone, I love it", "positive", "en", "train", {"domain": "phones"}),
        ("Terrible support", "negative", "en", "test", {"domain": "telecom"}),
        ("It works.\nNothing more to say", "neutral", "fr", "train", {"domain": "phones"}),
    ]
    row = store.dataset("reviews")
    assert row.kind == "real" and row.meta["imports"] == [
        {"file": "r.csv", "format": "csv", "count": 3, "languages": {"en": 2, "fr": 1}}
    ]


def test_read_file_yields_the_same_samples_without_a_store(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", CSV)
    columns = ColumnMap(text="review", label="stars", language="lang", split="part", attributes=("domain",))
    read = list(read_file(path, THREE, columns=columns))
    stored = store.samples(import_file(store, path, "reviews", THREE, columns=columns).dataset_id)
    assert [s.model_copy(update={"id": None}) for s in stored] == read
    assert all(s.id is None for s in read)
    plain, half = ColumnMap(text="review", label="stars"), {"train": 0.5, "test": 0.5}
    drawn = [s.split for s in read_file(path, THREE, columns=plain, splits=half, seed=3)]
    imported = import_file(store, path, "drawn", THREE, columns=plain, splits=half, seed=3)
    assert drawn == [s.split for s in store.samples(imported.dataset_id)] and set(drawn) == {"train", "test"}
    with pytest.raises(DataError, match="does not exist"):
        read_file(tmp_path / "missing.csv", THREE)  # checked before any row is read
    bad = write(tmp_path / "bad.csv", "text,label\nfine,positive\nodd,maybe\n")
    rows = read_file(bad, THREE)
    assert next(rows).label == "positive"
    with pytest.raises(DataError, match="line 3"):
        next(rows)


def test_jsonl_multi_label_and_aspects(store: Store, tmp_path: Path) -> None:
    multi = write(
        tmp_path / "m.jsonl",
        '{"text": "yay", "labels": ["Joy", "trust"]}\n\n{"text": "ugh", "labels": "anger;disgust"}\n',
    )
    result = import_file(store, multi, "emo", BUILTIN["emotions"])
    assert [s.labels for s in store.samples(result.dataset_id)] == [["joy", "trust"], ["anger", "disgust"]]
    aspects = [{"term": "screen", "polarity": "pos"}, {"term": "battery", "polarity": "negative"}]
    absa = write(tmp_path / "a.jsonl", json.dumps({"text": "screen fine, battery bad", "aspects": aspects}) + "\n")
    result = import_file(store, absa, "absa", BUILTIN["aspect"])
    (sample,) = store.samples(result.dataset_id)
    assert [(a.term, a.polarity) for a in sample.aspects or []] == [("screen", "positive"), ("battery", "negative")]


def test_parquet_in_batches(store: Store, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = 2500
    table = pa.table({"body": [f"review {i}" for i in range(n)], "y": [i % 2 for i in range(n)], "score": [0.5] * n})
    pq.write_table(table, tmp_path / "p.parquet", row_group_size=700)
    columns = ColumnMap(text="body", label="y", attributes=("score",))
    result = import_file(store, tmp_path / "p.parquet", "pq", BUILTIN["binary"], columns=columns, batch=300)
    assert result.count == n and result.by_label == {"negative": 1250, "positive": 1250}
    first = store.samples(result.dataset_id)[0]
    assert (first.text, first.label, first.attributes) == ("review 0", "negative", {"score": 0.5})


def test_stratified_splits_on_import(store: Store, tmp_path: Path) -> None:
    lines = [json.dumps({"text": f"t{i}", "label": THREE.labels[i % 3]}) for i in range(300)]
    path = write(tmp_path / "s.jsonl", "\n".join(lines))
    result = import_file(store, path, "s", THREE, splits={"train": 0.8, "holdout": 0.2}, seed=4)
    assert result.by_split == {"train": 240, "holdout": 60}
    holdout = Counter(s.label for s in store.iter_samples(result.dataset_id, split="holdout"))
    assert holdout == {"negative": 20, "neutral": 20, "positive": 20}


def test_appending_to_an_existing_dataset(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", "text,label\none,pos\n")
    import_file(store, path, "d", THREE)
    import_file(store, write(tmp_path / "b.csv", "text,label\ntwo,neg\n"), "d", THREE)
    assert [s.text for s in store.samples(store.dataset_id("d"))] == ["one", "two"]
    with pytest.raises(DataError, match="uses scheme 'three_class'"):
        import_file(store, path, "d", BUILTIN["binary"])
    store.create_dataset("synth", THREE)
    with pytest.raises(DataError, match="holds synthetic data"):
        import_file(store, path, "synth", THREE)


BAD_CASES: dict[str, tuple[Callable[[Path], Path], ColumnMap, list[str]]] = {
    "malformed csv": (
        lambda d: write(d / "f.csv", 'text,label\nfine,pos\n"unterminated quote,neg\nmore,pos\n'),
        ColumnMap(),
        ["f.csv", "line 4", "malformed CSV"],
    ),
    "too many fields": (
        lambda d: write(d / "f.csv", "text,label\nfine,pos\nnot, quoted,neg\n"),
        ColumnMap(),
        ["f.csv", "line 3", "3 fields where the header has 2"],
    ),
    "unknown label": (
        lambda d: write(d / "f.csv", "text,label\nfine,pos\nhmm,meh\n"),
        ColumnMap(),
        ["f.csv", "line 3", "'meh'", "expected one of ['negative', 'neutral', 'positive']"],
    ),
    "missing label": (
        lambda d: write(d / "f.csv", "text,label\nfine,pos\nhmm,\n"),
        ColumnMap(),
        ["line 3", "label is missing"],
    ),
    "empty text": (
        lambda d: write(d / "f.jsonl", '{"text": "ok", "label": "pos"}\n{"text": "  ", "label": "pos"}\n'),
        ColumnMap(),
        ["f.jsonl", "line 2", "column 'text' is empty"],
    ),
    "empty file": (lambda d: write(d / "f.csv", ""), ColumnMap(), ["f.csv", "is empty"]),
    "header only": (lambda d: write(d / "f.csv", "text,label\n"), ColumnMap(), ["f.csv", "no data rows"]),
    "empty jsonl": (lambda d: write(d / "f.jsonl", "\n\n"), ColumnMap(), ["f.jsonl", "no data rows"]),
    "wrong mapping": (
        lambda d: write(d / "f.csv", "review,stars\nfine,pos\n"),
        ColumnMap(text="review", label="sentiment"),
        ["no column 'sentiment'", "['review', 'stars']"],
    ),
    "wrong jsonl key": (
        lambda d: write(d / "f.jsonl", '{"text": "a", "label": "pos"}\n{"txt": "b", "label": "pos"}\n'),
        ColumnMap(),
        ["line 2", "no column 'text'", "['txt', 'label']"],
    ),
    "undecodable bytes": (
        lambda d: write(d / "f.csv", b"text,label\nfine,pos\n" + b"caf\xe9 cr\xe8me,pos\n"),
        ColumnMap(),
        ["f.csv", "line 3", "b'\\xe9'", "not valid utf-8"],
    ),
    "bad json": (
        lambda d: write(d / "f.jsonl", '{"text": "a", "label": "pos"}\n{"text": "b", "label": pos}\n'),
        ColumnMap(),
        ["f.jsonl", "line 2", "not valid JSON"],
    ),
    "not an object": (
        lambda d: write(d / "f.jsonl", '["a", "pos"]\n'),
        ColumnMap(),
        ["line 1", "expected a JSON object"],
    ),
    "not parquet": (
        lambda d: write(d / "f.parquet", "text,label\n"),
        ColumnMap(),
        ["f.parquet", "not a readable Parquet"],
    ),
    "bad split value": (
        lambda d: write(d / "f.csv", "text,label,split\na,pos,train\nb,neg,Train Set\n"),
        ColumnMap(split="split"),
        ["line 3", "'train set'"],
    ),
    "a NUL in a text": (
        lambda d: write(d / "f.jsonl", '{"text": "a", "label": "pos"}\n{"text": "b\\u0000c", "label": "pos"}\n'),
        ColumnMap(),
        ["f.jsonl", "line 2", "column text holds a NUL character"],
    ),
    "unknown suffix": (lambda d: write(d / "f.xlsx", "x"), ColumnMap(), ["f.xlsx", "cannot tell the format"]),
    "missing file": (lambda d: d / "nope.csv", ColumnMap(), ["nope.csv", "does not exist"]),
}


@pytest.mark.parametrize("case", list(BAD_CASES))
@pytest.mark.parametrize("target", ["new", "existing"])
def test_bad_input_names_the_problem_and_stores_nothing(store: Store, tmp_path: Path, case: str, target: str) -> None:
    keep = store.create_dataset("existing", THREE, kind="real")
    store.add_samples(keep, [Sample(text="already here", label="positive")])
    make, columns, expected = BAD_CASES[case]
    path = make(tmp_path)
    with pytest.raises(DataError) as err:
        import_file(store, path, target, THREE, columns=columns)
    for part in expected:
        assert part in str(err.value)
    assert [s.text for s in store.samples(keep)] == ["already here"]
    assert [d.name for d in store.list_datasets()] == ["existing"]


def test_a_bad_row_after_several_batches_rolls_everything_back(store: Store, tmp_path: Path) -> None:
    rows = [json.dumps({"text": f"t{i}", "label": "pos"}) for i in range(2500)] + ['{"text": "x", "label": "bogus"}']
    path = write(tmp_path / "big.jsonl", "\n".join(rows))
    with pytest.raises(DataError, match=r"line 2501: .*'bogus'"):
        import_file(store, path, "big", THREE, batch=500)
    assert store.list_datasets() == []
    with pytest.raises(DataError, match="line 2501"):  # the split pass meets it first
        import_file(store, path, "big", THREE, splits={"train": 0.5, "test": 0.5})
    assert store.list_datasets() == []
