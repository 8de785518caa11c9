"""``sentiforge quality ...`` and ``sentiforge review ...`` end to end through the CLI."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from sentiforge.cli import app
from sentiforge.labels import get_scheme
from sentiforge.samples import Sample
from sentiforge.store import Store

runner = CliRunner()


def run(*args: str, ok: bool = True) -> str:
    result = runner.invoke(app, list(args))
    assert (result.exit_code == 0) == ok, result.output + repr(result.exception)
    return result.output + ("" if ok else str(result.exception))


def test_quality_run_report_rejects_and_review(tmp_path: Path, tweets: list[Sample]) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    scheme = get_scheme("three_class")
    synthetic = [*tweets[:150], tweets[0].model_copy(), Sample(text="", label="neutral"), tweets[500].model_copy()]
    with Store(db) as store:
        store.add_samples(store.create_dataset("syn", scheme), synthetic)
        store.add_samples(store.create_dataset("seeds", scheme, kind="real"), tweets[200:500])
        store.add_samples(store.create_dataset("test", scheme, kind="real"), tweets[500:700])
    config = tmp_path / "quality.yaml"
    config.write_text("filters:\n  languages: [en, fr]\nreview:\n  audit_share: 0.1\n")
    output = run(
        "quality",
        "run",
        "syn",
        "--holdout",
        "test",
        "--seeds",
        "seeds",
        "--config",
        str(config),
        "--judge",
        "fake",
        "--embedder",
        "fake",
        "--db",
        db,
    )
    assert "153 examined" in output and "leaks of 'test' found:" in output

    report = json.loads(run("quality", "report", "syn", "--json", "--db", db))
    assert report["status"] == "completed", report
    assert report["rejected_by_check"]["exact_dup"] == 1, report

    counted = json.loads(run("quality", "rejects", "syn", "--count", "--db", db))
    assert counted["by_check"]["filters"] >= 1 and counted["by_check"]["leakage"] >= 1
    export = tmp_path / "rejects.csv"
    assert "rejects written to" in run("quality", "rejects", "syn", "--export", str(export), "--db", db)
    with export.open(newline="") as f:
        assert len(list(csv.DictReader(f))) == counted["total"]
    assert "empty text" in run("quality", "rejects", "syn", "--check", "filters", "--db", db)

    item = json.loads(run("review", "next", "syn", "--json", "--db", db))[0]
    assert "bob" in run("review", "relabel", str(item["id"]), "positive", "--by", "bob", "--db", db)
    assert "already relabelled by bob" in run("review", "approve", str(item["id"]), "--by", "eve", "--db", db, ok=False)
    assert json.loads(run("review", "count", "syn", "--db", db))["relabelled"] == 1
    assert "agent voice" in json.loads(run("review", "reasons", "syn", "--db", db))
    second = json.loads(run("review", "next", "syn", "--json", "--db", db))[0]
    assert "unknown review reason 'meh'" in run(
        "review", "reject", str(second["id"]), "--by", "bob", "--reason", "meh", "--db", db, ok=False
    )
    run("review", "reject", str(second["id"]), "--by", "bob", "--reason", "duplicate", "--db", db)
    assert (
        json.loads(run("review", "list", "syn", "--status", "rejected", "--json", "--db", db))[0]["reason"]
        == "duplicate"
    )


def test_unknown_dataset_is_a_clear_error(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    output = run("quality", "report", "nope", "--db", db, ok=False)
    assert "no dataset named 'nope'" in output
