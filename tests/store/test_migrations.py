"""Alembic migrations: the migrated schema is exactly models.py, upgrades are idempotent and
safe when several processes open a new database at once."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from sentiforge.errors import StoreError
from sentiforge.store import Store, migrate
from sentiforge.store.store import make_engine
from sentiforge.store.tables import Base


def test_migrated_schema_matches_models(empty_db_url: str) -> None:
    store = Store(empty_db_url)
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, Base.metadata) == []
        assert migrate.current(conn) == migrate.head()
        indexes = {ix["name"] for ix in inspect(conn).get_indexes("samples")}
    assert {"ix_samples_dataset_status_id", "ix_samples_dataset_hash", "ix_samples_parent_id"} <= indexes
    store.close()


def test_a_model_change_without_migration_is_detected(empty_db_url: str) -> None:
    """The comparison above can fail: a column added to the models shows up as a difference."""
    from sqlalchemy import Column, Integer, MetaData

    store = Store(empty_db_url)
    changed = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["samples"].append_column(Column("score", Integer))
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), changed)
    assert [d[0] for d in diff] == ["add_column"] and diff[0][3].name == "score"
    store.close()


def test_upgrade_twice_is_a_noop_and_downgrade_round_trips(empty_db_url: str) -> None:
    from alembic import command

    Store(empty_db_url).close()
    store = Store(empty_db_url)  # at head already: nothing to do
    with store.engine.begin() as conn:
        command.downgrade(migrate.config(conn), "base")
    assert not inspect(store.engine).has_table("samples")
    migrate.upgrade(store.engine)
    assert inspect(store.engine).has_table("samples")
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    store.close()


def test_the_migration_check_runs_once_per_database_and_process(
    empty_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks: list[str] = []
    real_head = migrate.head

    def counted_head() -> str:
        checks.append("head")
        return real_head()

    monkeypatch.setattr(migrate, "head", counted_head)
    with Store(empty_db_url) as store:
        assert inspect(store.engine).has_table("samples")
    assert checks
    checks.clear()
    with Store(empty_db_url) as again:  # this process brought it to head already: no check
        assert again.dataset_counts() == {}
    assert checks == []


def test_every_in_memory_database_is_migrated() -> None:
    for _ in range(2):
        with Store("sqlite://") as store:
            assert store.list_datasets() == []


def test_a_deleted_sqlite_file_is_migrated_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'gone.db'}"
    Store(url).close()
    for path in tmp_path.glob("gone.db*"):
        path.unlink()
    with Store(url) as store:
        assert store.list_datasets() == []


SCRIPT = """
import sys, time
from sentiforge.store import Store
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
Store(sys.argv[1]).close()
print("ok")
"""


def test_processes_opening_a_new_database_at_once(empty_db_url: str, tmp_path: Path) -> None:
    """Without the lock, PostgreSQL fails here with a duplicate-type error in all but one process."""
    script = tmp_path / "open.py"
    script.write_text(SCRIPT)
    start = str(time.time() + 4)  # after every interpreter has imported sentiforge
    command = [sys.executable, str(script), empty_db_url, start]
    procs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    results = [p.communicate(timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
        assert out.strip() == "ok"
    engine = make_engine(empty_db_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [migrate.head()]
    engine.dispose()


def test_pre_migration_database_gets_a_clear_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    Base.metadata.create_all(engine)  # what builds before migrations existed did
    engine.dispose()
    with pytest.raises(StoreError, match="no migration history"):
        Store(url)


def test_migration_scripts_ship_inside_the_package() -> None:
    import sentiforge

    folder = Path(sentiforge.__file__).parent / "store" / "migrations"
    assert folder.resolve() == migrate.SCRIPTS
    assert (folder / "env.py").is_file() and (folder / "script.py.mako").is_file()
    assert (folder / "versions" / "0001_initial.py").is_file()


def test_the_documented_revision_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``python -m sentiforge.store.migrate revision`` (run here on a copy of the scripts)."""
    import shutil

    scripts = tmp_path / "migrations"
    shutil.copytree(migrate.SCRIPTS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(migrate, "SCRIPTS", scripts)
    before = migrate.head()
    migrate.main(["revision", "-m", "add a thing", "--db", f"sqlite:///{tmp_path / 'dev.db'}"])
    number = f"{int(before) + 1:04d}"
    (made,) = (scripts / "versions").glob(f"{number}_*.py")
    assert made.name == f"{number}_add_a_thing.py"
    body = made.read_text()
    assert f"down_revision: str | None = '{before}'" in body and "pass" in body  # models == schema: no ops
    assert f"database at revision {before}; scripts head {number}" in capsys.readouterr().out


def test_0004_renames_old_job_statuses(empty_db_url: str) -> None:
    """Rows written with the old names (pending, budget_exhausted) read as queued and budget_stopped."""
    from alembic import command

    engine = make_engine(empty_db_url)
    with engine.begin() as conn:
        command.upgrade(migrate.config(conn), "0003")
        conn.execute(
            text(
                "INSERT INTO datasets (name, kind, scheme, meta, created_at)"
                " VALUES ('d', 'synthetic', '{}', '{}', '2026-01-01')"
            )
        )
        for status in ("pending", "budget_exhausted", "completed"):
            conn.execute(
                text(
                    "INSERT INTO jobs (dataset_id, recipe, status, target, done, rejected, requests, cache_hits,"
                    " prompt_tokens, completion_tokens, cost, cancel_requested, created_at, updated_at)"
                    " VALUES (1, '{}', :s, 1, 0, 0, 0, 0, 0, 0, 0, false, '2026-01-01', '2026-01-01')"
                ),
                {"s": status},
            )
    with engine.begin() as conn:
        command.upgrade(migrate.config(conn), "0004")
        assert conn.execute(text("SELECT status FROM jobs ORDER BY id")).scalars().all() == [
            "queued",
            "budget_stopped",
            "completed",
        ]
        command.downgrade(migrate.config(conn), "0003")
        assert conn.execute(text("SELECT status FROM jobs ORDER BY id")).scalars().all() == [
            "pending",
            "budget_exhausted",
            "completed",
        ]
    engine.dispose()
