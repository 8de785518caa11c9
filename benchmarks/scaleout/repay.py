"""Repaid answers: an in-process job (240 samples, the loopback server at 50 ms, 4 requests in
flight) SIGKILLed mid-run, between two flushes of its samples, then resumed; how many requests
the server answered twice, and what the job's counters say (issue 21.6).

    flock /tmp/sentiforge-model.lock env PYTHONPATH=src .venv/bin/python benchmarks/scaleout/repay.py

Three kills on SQLite and three on PostgreSQL (127.0.0.1:5432, trust). Writes repay.json.
"""

from __future__ import annotations

import asyncio
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
RUN = "import asyncio, sys\nfrom sentiforge.engine import run_job\nfrom sentiforge.store import Store\n" \
      "asyncio.run(run_job(Store(sys.argv[1]), int(sys.argv[2])))\n"  # fmt: skip


def _pg(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def _one(url: str, server: Any, kill_at: int) -> dict[str, Any]:
    from sentiforge.app.jobs import create_job, resume_job
    from sentiforge.recipe import BackendSpec, Recipe, StepSpec
    from sentiforge.store import Store

    before, twice_before = len(server.requests), len(server.answered_twice())
    spec = BackendSpec(kind="openai", base_url=server.base_url, model=f"repay-{time.time()}", concurrency=4)
    with Store(url) as store:
        job = create_job(store, Recipe(backend=spec, steps=[StepSpec(params={"count": 240})]), f"r{time.time()}")
        proc = subprocess.Popen([sys.executable, "-c", RUN, url, str(job)])
        while store.job(job).done < kill_at:
            time.sleep(0.01)
        time.sleep(0.5)  # half a flush period after a flush: answers paid, their samples unstored
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        killed = store.job(job)
        answered_by_killed = len(server.requests) - before
        result = asyncio.run(resume_job(store, job))
        final = store.job(job)
    return {
        "killed_at_done": killed.done, "answered_before_kill": answered_by_killed,
        "counted_by_killed": killed.requests, "resumed": f"{result.status} {result.done}/240",
        "answered_twice": len(server.answered_twice()) - twice_before, "resume_cache_hits": final.cache_hits,
        "requests_counted": final.requests, "requests_answered": len(server.requests) - before,
    }  # fmt: skip


def main() -> None:
    from sentiforge.testing.server import OpenAITestServer

    name = f"sentiforge_bench_repay_{os.getpid()}"
    _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _pg(f'CREATE DATABASE "{name}"')
    runs: dict[str, list[dict[str, Any]]] = {"sqlite": [], "postgresql": []}
    try:
        with OpenAITestServer(latency=0.05) as server, tempfile.TemporaryDirectory() as tmp:
            urls = {"sqlite": f"sqlite:///{tmp}/repay.db", "postgresql": f"postgresql://postgres@127.0.0.1:5432/{name}"}
            for db, url in urls.items():
                for kill_at in (60, 87, 150):
                    runs[db].append(_one(url, server, kill_at))
                    print(db, json.dumps(runs[db][-1]), file=sys.stderr, flush=True)
    finally:
        _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    results = {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cpus": os.cpu_count(),
               "samples": 240, "concurrency": 4, "latency_s": 0.05, "runs": runs}  # fmt: skip
    (HERE / "repay.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
