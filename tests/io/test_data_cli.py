"""``sentiforge import / export / datasets / show / delete`` end to end through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from sentiforge.cli import app

runner = CliRunner()


def run(*args: str, ok: bool = True) -> str:
    result = runner.invoke(app, list(args))
    assert (result.exit_code == 0) == ok, result.output + repr(result.exception)
    return result.output


def test_import_list_show_export_delete(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    data = tmp_path / "reviews.csv"
    rows = ["body,stars,site"] + [
        f"review number {i},{['neg', 'neu', 'pos'][i % 3]},{'a' if i % 2 else 'b'}" for i in range(30)
    ]
    data.write_text("\n".join(rows) + "\n")
    output = run(
        "import",
        str(data),
        "--dataset",
        "reviews",
        "--scheme",
        "three_class",
        "--text-col",
        "body",
        "--label-col",
        "stars",
        "--attr-col",
        "site",
        "--splits",
        "0.8,0.2",
        "--db",
        db,
    )
    assert "imported 30 samples" in output and "train 24, test 6" in output
    listing = json.loads(run("datasets", "--json", "--db", db))
    assert [(d["name"], d["kind"], d["accepted"]) for d in listing] == [("reviews", "real", 30)]
    shown = run("show", "reviews", "-n", "2", "--db", db)
    assert "label: negative 10, neutral 10, positive 10" in shown and "review number 1" in shown
    out = tmp_path / "out"
    run(
        "export",
        "reviews",
        "--format",
        "csv",
        "--out",
        str(out),
        "--splits",
        "0.8,0.1,0.1",
        "--meta",
        "synthetic_share=0.25",
        "--db",
        db,
    )
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["splits"]["counts"] == {"train": 24, "validation": 3, "test": 3}
    assert meta["extra"] == {"synthetic_share": 0.25}
    assert (out / "validation.csv").read_text().startswith("id,text,label,language,split,site")
    more = tmp_path / "more.csv"
    more.write_text("body,stars,site\nfive stars,pos,a\n")
    output = run(
        "import",
        str(more),
        "-d",
        "reviews",
        "--text-col",
        "body",
        "--label-col",
        "stars",
        "--attr-col",
        "site",
        "--db",
        db,
    )  # the dataset's own scheme
    assert "imported 1 samples" in output
    run("delete", "reviews", "--yes", "--db", db)
    assert json.loads(run("datasets", "--json", "--db", db)) == []


def test_cli_errors_are_clear(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    data = tmp_path / "d.csv"
    data.write_text("text,label\nok,pos\n")
    result = runner.invoke(app, ["import", str(data), "-d", "x", "--label-col", "stars", "--db", db])
    assert result.exit_code != 0 and "no column 'stars'" in str(result.exception)
    result = runner.invoke(app, ["export", "missing", "--out", str(tmp_path / "o"), "--db", db])
    assert "no dataset 'missing'" in str(result.exception)
    result = runner.invoke(app, ["export", "x", "--out", str(tmp_path / "o"), "--splits", "0.5,0.4", "--db", db])
    assert "sum to 0.9" in str(result.exception)
    result = runner.invoke(app, ["delete", "nothing", "-y", "--db", db])
    assert "no dataset named 'nothing'" in str(result.exception)
