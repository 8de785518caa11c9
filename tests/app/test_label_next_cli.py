"""``sentiforge label-next``: the queue printed, labels given with --give stored as the reviewer's."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from sentiforge.cli import app
from sentiforge.store import Store
from sentiforge.testing.label_pool import build_label_pool


def test_queue_and_give_from_the_terminal(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    with Store(db) as store:
        _, pool, model = build_label_pool(store, tmp_path / "models")
    folder = str(tmp_path / "models" / model)
    runner = CliRunner()
    shown = runner.invoke(app, ["label-next", "--model", folder, "--pool", pool, "-n", "3", "--db", db])
    assert shown.exit_code == 0, shown.output
    ids = [int(line.split("\t")[0]) for line in shown.stdout.splitlines() if "\t" in line]
    assert len(ids) == 3
    given = runner.invoke(app, ["label-next", "--model", folder, "--pool", pool, "--db", db, "--reviewer", "carol",
                                "--give", f"{ids[0]}=positive", "--give", f"{ids[1]}=negative"])  # fmt: skip
    assert given.exit_code == 0, given.output
    bad = runner.invoke(app, ["label-next", "--model", folder, "--pool", pool, "--db", db, "--give", "x=positive"])
    assert bad.exit_code != 0 and "ID=LABEL" in str(bad.exception)
    with Store(db) as store:
        human = [s for s in store.samples(store.dataset_id(f"{pool}-human")) if s.provenance.strategy == "human"]
    assert [(s.provenance.params["pool_id"], s.label, s.provenance.params["reviewer"]) for s in human] == [
        (ids[0], "positive", "carol"),
        (ids[1], "negative", "carol"),
    ]
