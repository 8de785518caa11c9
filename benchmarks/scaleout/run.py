"""Scale-out: samples per minute with 1 and 2 Celery worker processes against the loopback
server (100 ms latency), and the overhead of sharding against one in-process job.

    flock /tmp/sentiforge-model.lock env PYTHONPATH=src .venv/bin/python benchmarks/scaleout/run.py

Needs Redis on 127.0.0.1:6379 and PostgreSQL on 127.0.0.1:5432 (trust). Each run uses its own
model name, so nothing comes from the response cache. Writes results.json beside this file.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
BROKER = "redis://127.0.0.1:6379/7"


def _pg(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def _recipe(base_url: str, count: int, concurrency: int, tag: str) -> Any:
    from sentiforge.recipe import BackendSpec, Recipe, StepSpec

    spec = BackendSpec(kind="openai", base_url=base_url, model=f"bench-{tag}-{time.time()}", concurrency=concurrency)
    return Recipe(backend=spec, steps=[StepSpec(params={"count": count})])


def _in_process(url: str, base_url: str, count: int, concurrency: int) -> float:
    from sentiforge.app import jobs
    from sentiforge.store import Store

    with Store(url) as store:
        job_id = jobs.create_job(store, _recipe(base_url, count, concurrency, "inproc"), "inproc")
        start = time.monotonic()
        result = jobs.run_sync(store, job_id)
        assert result.done == count, result
        return time.monotonic() - start


def _workers(env: dict[str, str], base_url: str, count: int, concurrency: int, n: int, shard: int) -> float:
    from sentiforge.app import jobs
    from sentiforge.store import Store
    from sentiforge.worker.tasks import dispatch

    cmd = [sys.executable, "-c", "from sentiforge.cli import main; main()", "worker", "--log-level", "warning"]
    procs = [
        subprocess.Popen([*cmd, "--name", f"bench{i}@%h"], env=env, start_new_session=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for i in range(n)
    ]  # fmt: skip
    time.sleep(6)  # let the workers start and connect before the clock starts
    try:
        with Store(env["SENTIFORGE_DATABASE_URL"]) as store:
            job_id = jobs.create_job(store, _recipe(base_url, count, concurrency, f"w{n}"), f"w{n}")
            start = time.monotonic()
            dispatch(store, job_id, shard_size=shard)
            while (job := store.job(job_id)).status == "running":
                time.sleep(0.1)
            took = time.monotonic() - start
            assert (job.status, job.done) == ("completed", count), job
            return took
    finally:
        for p in procs:
            os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            p.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=800)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--shard", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.1)
    args = parser.parse_args()
    from sentiforge.config import get_settings
    from sentiforge.store import Store
    from sentiforge.testing.process import ServerProcess

    name = f"sentiforge_bench_scaleout_{os.getpid()}"
    _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _pg(f'CREATE DATABASE "{name}"')
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    env = {**os.environ, "SENTIFORGE_DATABASE_URL": url, "SENTIFORGE_BROKER_URL": BROKER,
           "SENTIFORGE_WORKER_QUEUE": f"bench-{os.getpid()}", "PYTHONPATH": os.pathsep.join(sys.path)}  # fmt: skip
    os.environ.update({k: env[k] for k in ("SENTIFORGE_BROKER_URL", "SENTIFORGE_WORKER_QUEUE")})
    get_settings.cache_clear()
    Store(url).close()
    try:
        with ServerProcess(latency=args.latency) as server:
            inproc = _in_process(url, server.base_url, args.count, args.concurrency)
            print(f"in-process: {inproc:.1f} s", file=sys.stderr, flush=True)
            one = _workers(env, server.base_url, args.count, args.concurrency, 1, args.shard)
            print(f"1 worker: {one:.1f} s", file=sys.stderr, flush=True)
            two = _workers(env, server.base_url, args.count, args.concurrency, 2, args.shard)
            print(f"2 workers: {two:.1f} s", file=sys.stderr, flush=True)
    finally:
        _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    ideal = args.count * args.latency / args.concurrency
    results = {
        "samples": args.count, "latency_s": args.latency, "concurrency_per_process": args.concurrency,
        "shard_size": args.shard, "cpus": os.cpu_count(),
        "ideal_one_process_s": round(ideal, 2),
        "in_process": {"seconds": round(inproc, 2), "samples_per_min": round(60 * args.count / inproc)},
        "workers_1": {"seconds": round(one, 2), "samples_per_min": round(60 * args.count / one)},
        "workers_2": {"seconds": round(two, 2), "samples_per_min": round(60 * args.count / two)},
        "sharding_overhead_pct": round(100 * (one - inproc) / inproc, 1),
        "speedup_2_over_1": round(one / two, 2),
    }  # fmt: skip
    (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
