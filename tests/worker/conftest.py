"""Worker fixtures: a fresh PostgreSQL database, a Celery queue of its own on the local Redis,
and real ``sentiforge worker`` processes (each in its own process group, so a test can
SIGKILL one whole worker)."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sentiforge.store import Store

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
BROKER = "redis://127.0.0.1:6379/7"
_n = itertools.count()


def _pg(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


@pytest.fixture
def queue() -> str:
    return f"sentiforge-test-{os.getpid()}-{next(_n)}"


@pytest.fixture
def worker_env(tmp_path: Path, queue: str) -> Iterator[dict[str, str]]:
    """The environment every process of a test shares (workers and this one)."""
    name = f"sentiforge_workers_{os.getpid()}_{next(_n)}"
    _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _pg(f'CREATE DATABASE "{name}"')
    env = {
        "SENTIFORGE_HOME": str(tmp_path),
        "SENTIFORGE_DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{name}",
        "SENTIFORGE_BROKER_URL": BROKER,
        "SENTIFORGE_WORKER_QUEUE": queue,
        "SENTIFORGE_BROKER_VISIBILITY_TIMEOUT": "20",
        "SENTIFORGE_SHARD_TIME_LIMIT": "15",
    }
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    _clear_caches()
    Store(env["SENTIFORGE_DATABASE_URL"]).close()
    yield env
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    _clear_caches()
    _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    import redis

    redis.Redis.from_url(BROKER).delete(queue, f"{queue}\x06\x163", f"{queue}\x06\x166", f"{queue}\x06\x169")


def _clear_caches() -> None:
    from sentiforge.config import get_settings

    get_settings.cache_clear()
    if "sentiforge.worker.app" in sys.modules:
        sys.modules["sentiforge.worker.app"].celery_app.cache_clear()
        sys.modules.pop("sentiforge.worker.tasks", None)


@pytest.fixture
def start_worker(worker_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[[str], subprocess.Popen[bytes]]]:
    """``start_worker(name)``: a ``sentiforge worker`` process; all are stopped after the test."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(name: str) -> subprocess.Popen[bytes]:
        env = {**os.environ, **worker_env, "PYTHONPATH": os.pathsep.join(sys.path)}
        cmd = [sys.executable, "-c", "from sentiforge.cli import main; main()", "worker", "--name", f"{name}@%h",
               "--log-level", "warning"]  # fmt: skip
        log = open(tmp_path / f"{name}.log", "wb")  # noqa: SIM115 - the process writes it until it stops
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
