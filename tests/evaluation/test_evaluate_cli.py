"""``sentiforge evaluate`` end to end: built-in real data, synthetic data from a file or the store."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from sentiforge.cli import app
from sentiforge.labels import get_scheme
from sentiforge.samples import Sample
from sentiforge.store import Store

runner = CliRunner()
FAST = ["--classifier", "fake", "--embedder", "fake", "--bootstrap", "50", "--cv", "0"]


def run(*args: str, ok: bool = True) -> str:
    result = runner.invoke(app, list(args))
    assert (result.exit_code == 0) == ok, result.output + repr(result.exception)
    return result.output + ("" if ok else str(result.exception))


def test_evaluate_builtin_real_against_a_jsonl_file(tmp_path: Path, amazon: list[Sample]) -> None:
    synth = tmp_path / "synthetic.jsonl"
    synth.write_text("\n".join(json.dumps({"text": s.text, "label": s.label, "domain": "phones"}) for s in amazon))
    out = run(
        "evaluate",
        "--real",
        "uci:yelp",
        "--synthetic",
        str(synth),
        "--scheme",
        "binary",
        "--out",
        str(tmp_path / "rep"),
        "--json",
        *FAST,
    )
    numbers = json.loads(out[out.index("{") : out.rindex("}") + 1])
    assert 0.5 < numbers["fake"]["ratio"] < 1.2
    assert numbers["fake"]["trtr"]["macro_f1"] > 0.7
    assert (tmp_path / "rep" / "report.html").is_file()
    report = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert report["meta"]["sources"]["synthetic"] == str(synth)
    assert report["bias"]["synthetic"]["attributes"] == []  # one domain only: nothing to compare


def test_evaluate_store_datasets_with_stored_splits(
    tmp_path: Path, yelp_split: tuple[list[Sample], list[Sample]], amazon: list[Sample]
) -> None:
    db = f"sqlite:///{tmp_path / 'e.db'}"
    store = Store(db)
    scheme = get_scheme("binary")
    train, hold = yelp_split
    store.add_samples(store.create_dataset("yelp", scheme, kind="real"), [*train, *hold])
    store.add_samples(store.create_dataset("syn", scheme), amazon[:300])
    out = run("evaluate", "--real", "yelp", "--synthetic", "syn", "--db", db, "--out", str(tmp_path / "r"), *FAST)
    assert "TSTR/TRTR" in out
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["meta"]["split"] == "splits stored with the real data"
    assert report["meta"]["sizes"]["holdout"] == len(hold)


def test_evaluate_explains_bad_input(tmp_path: Path) -> None:
    out = run(
        "evaluate",
        "--real",
        "uci:yelp",
        "--synthetic",
        str(tmp_path / "missing.jsonl"),
        "--scheme",
        "binary",
        *FAST,
        ok=False,
    )
    assert "does not exist" in out
    out = run(
        "evaluate",
        "--real",
        "uci:yelp",
        "--synthetic",
        "nope",
        "--db",
        f"sqlite:///{tmp_path / 'x.db'}",
        *FAST,
        ok=False,
    )
    assert "no dataset 'nope'" in out
    out = run("evaluate", "--real", "uci:yelp", "--synthetic", "uci:amazon", "--on-leak", "maybe", *FAST, ok=False)
    assert "--on-leak" in out
