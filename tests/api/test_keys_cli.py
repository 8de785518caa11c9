"""`sentiforge keys create / list / revoke`: the token once, never again, a hash in the database."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from sentiforge.cli import app
from sentiforge.store import Store


def test_keys_cli(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'k.db'}"
    runner = CliRunner()
    made = runner.invoke(app, ["keys", "create", "--name", "alice", "--scope", "read", "--scope", "review", "--db", db])
    assert made.exit_code == 0, made.output
    token = next(line for line in made.output.splitlines() if line.startswith("sfk_"))
    listed = runner.invoke(app, ["keys", "list", "--json", "--db", db])
    assert "alice" in listed.output and token not in listed.output and token.split("_", 2)[2] not in listed.output
    with Store(db) as store:
        assert store.verify_key(token) is not None and store.verify_key(token).scopes == ["read", "review"]  # type: ignore[union-attr]
    bad = runner.invoke(app, ["keys", "create", "--name", "bob", "--scope", "root", "--db", db])
    assert bad.exit_code != 0
    assert runner.invoke(app, ["keys", "revoke", "alice", "--db", db]).exit_code == 0
    with Store(db) as store:
        assert store.verify_key(token) is None
