"""Failover: SIGKILL one of two ``sentiforge worker`` processes mid-shard and start none; how
long until the job completes, exactly, on the survivor alone (issue 21.5: under 2 minutes).

    flock /tmp/sentiforge-model.lock env PYTHONPATH=src .venv/bin/python benchmarks/scaleout/failover.py

Two cases: the victim on this host (the survivor's sweeper sees its pid gone at the next sweep)
and the victim "on another host" (its hostname patched in that process, so only the claims'
heartbeat silence, ``STALE_AFTER``, gives it away). The broker's visibility timeout is an hour,
as in production, so only the sweeper can rescue the shard. Needs Redis on 127.0.0.1:6379 and
PostgreSQL on 127.0.0.1:5432 (trust). Writes failover.json beside this file.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
BROKER = "redis://127.0.0.1:6379/7"
OTHER_HOST = "import socket\nsocket.gethostname = lambda: 'another-host'\n"


def _pg(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def _worker(env: dict[str, str], name: str, extra_path: str = "") -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-c", "from sentiforge.cli import main; main()", "worker", "--log-level", "warning"]
    path = os.pathsep.join([p for p in (extra_path, env["PYTHONPATH"]) if p])
    return subprocess.Popen([*cmd, "--name", f"{name}@%h"], env={**env, "PYTHONPATH": path}, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


def _one(env: dict[str, str], server: Any, count: int, shard: int, other_host: bool) -> dict[str, Any]:
    from sqlalchemy import func, select

    from sentiforge.app import jobs
    from sentiforge.recipe import BackendSpec, Recipe, StepSpec
    from sentiforge.store import Store
    from sentiforge.store.tables import SampleRow
    from sentiforge.worker.tasks import dispatch

    spec = BackendSpec(kind="openai", base_url=server.base_url, model=f"failover-{time.time()}", concurrency=4)
    before, twice_before = len(server.requests), len(server.answered_twice())
    with tempfile.TemporaryDirectory() as patch, Store(env["SENTIFORGE_DATABASE_URL"]) as store:
        if other_host:
            Path(patch, "sitecustomize.py").write_text(OTHER_HOST)
        victim = _worker(env, "victim", patch if other_host else "")
        survivor = _worker(env, "survivor")
        try:
            recipe = Recipe(backend=spec, steps=[StepSpec(params={"count": count})])
            job_id = jobs.create_job(store, recipe, f"failover-{other_host}")  # a dataset of its own
            dispatch(store, job_id, shard_size=shard)
            mark = "another-host:" if other_host else None
            while True:
                running = [s for s in store.shards(job_id) if s.status == "running" and s.done >= 20]
                mine = [s for s in running if (s.claimed_by or "").startswith(mark or "") and _is_victims(s, victim)]
                if mine:
                    break
                time.sleep(0.05)
            os.killpg(victim.pid, signal.SIGKILL)
            killed = time.monotonic()
            paid_at_kill = len(server.requests) - before
            victim.wait(10)
            retaken = None
            while (job := store.job(job_id)).status == "running":
                if retaken is None and store.shard(mine[0].id).deliveries == 2:
                    retaken = time.monotonic() - killed
                time.sleep(0.2)
                assert time.monotonic() - killed < 600, store.shards(job_id)
            took = time.monotonic() - killed
            accepted = (SampleRow.job_id == job_id) & (SampleRow.status == "accepted")
            with store.session() as s:
                slots = s.scalar(select(func.count(func.distinct(SampleRow.slot))).where(accepted))
                rows = s.scalar(select(func.count()).where(accepted))
            return {
                "victim": "another host (heartbeat silence)" if other_host else "this host (pid gone)",
                "status": job.status, "done": job.done, "target": count, "accepted_rows": rows,
                "distinct_slots": slots, "seconds_kill_to_complete": round(took, 1),
                "seconds_kill_to_shard_retaken": round(retaken, 1) if retaken is not None else None,
                "requests": len(server.requests) - before, "requests_at_kill": paid_at_kill,
                "answered_twice": len(server.answered_twice()) - twice_before,
            }  # fmt: skip
        finally:
            for p in (victim, survivor):
                if p.poll() is None:
                    os.killpg(p.pid, signal.SIGTERM)
                    p.wait(30)


def _is_victims(shard: Any, victim: subprocess.Popen[bytes]) -> bool:
    pid = int((shard.claimed_by or ":0").rsplit(":", 1)[1])
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1]) == victim.pid
    except (FileNotFoundError, ValueError):
        return False


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=800)
    parser.add_argument("--shard", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()
    from sentiforge.config import get_settings
    from sentiforge.store import Store
    from sentiforge.testing.server import OpenAITestServer

    name = f"sentiforge_bench_failover_{os.getpid()}"
    _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _pg(f'CREATE DATABASE "{name}"')
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    env = {**os.environ, "SENTIFORGE_DATABASE_URL": url, "SENTIFORGE_BROKER_URL": BROKER,
           "SENTIFORGE_WORKER_QUEUE": f"failover-{os.getpid()}", "SENTIFORGE_BROKER_VISIBILITY_TIMEOUT": "3600",
           "SENTIFORGE_SHARD_TIME_LIMIT": "1800", "PYTHONPATH": os.pathsep.join(sys.path)}  # fmt: skip
    os.environ.update({k: env[k] for k in ("SENTIFORGE_BROKER_URL", "SENTIFORGE_WORKER_QUEUE")})
    get_settings.cache_clear()
    Store(url).close()
    runs = []
    try:
        with OpenAITestServer(latency=args.latency) as server:
            for other_host in (False, True):
                runs.append(_one(env, server, args.count, args.shard, other_host))
                print(json.dumps(runs[-1]), file=sys.stderr, flush=True)
    finally:
        _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    from sentiforge.app.shards import SWEEP_SECONDS
    from sentiforge.store.claims import STALE_AFTER

    results = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cpus": os.cpu_count(),
        "samples": args.count, "shard_size": args.shard, "latency_s": args.latency,
        "sweep_seconds": SWEEP_SECONDS, "stale_after_s": STALE_AFTER, "broker_visibility_timeout_s": 3600,
        "runs": runs,
    }  # fmt: skip
    (HERE / "failover.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
