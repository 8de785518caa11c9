"""The cost of claiming each accepted text in the store (text_claims: shards running at once
never accept the same text): one 800-slot shard run in-process on PostgreSQL with the fake
backend (8 in flight), with the claims and with them skipped, alternating, each twice; at 100 ms
per answer (latency-bound, as in run.py) and at none (the store is the bottleneck).

    env PYTHONPATH=src .venv/bin/python benchmarks/scaleout/claims.py

Needs PostgreSQL on 127.0.0.1:5432 (trust). Writes claims.json beside this file.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
_names = itertools.count()


def _pg(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


async def _skip_claim(self: Any, h: str, slot: str) -> bool:
    self.hashes.add(h)  # the in-memory check only, as before text_claims
    return True


async def once(claims: bool, latency: float, n: int) -> float:
    from sentiforge import engine
    from sentiforge.app import jobs
    from sentiforge.app.shards import run_shard, split
    from sentiforge.recipe import BackendSpec, Recipe, StepSpec
    from sentiforge.store import Store
    from sentiforge.testing.backend import FakeBackend

    name = f"sentiforge_claims_{os.getpid()}_{next(_names)}"
    _pg(f'CREATE DATABASE "{name}"')
    original = engine.JobRun._claim
    if not claims:
        engine.JobRun._claim = _skip_claim  # type: ignore[method-assign]
    try:
        with Store(f"postgresql://postgres@127.0.0.1:5432/{name}") as store:
            recipe = Recipe(backend=BackendSpec(kind="fake"), steps=[StepSpec(params={"count": n})])
            (shard_id,) = split(store, jobs.create_job(store, recipe, "bench"), n)
            start = time.monotonic()
            shard = await run_shard(store, shard_id, backend=FakeBackend(latency=latency, max_concurrency=8))
            took = time.monotonic() - start
            assert (shard.status, shard.done) == ("completed", n), shard
            return took
    finally:
        engine.JobRun._claim = original  # type: ignore[method-assign]
        _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def main(n: int = 800, reps: int = 3) -> dict[str, Any]:
    out: dict[str, Any] = {"samples": n, "in_flight": 8, "repeats": reps, "load_before": os.getloadavg()[0]}
    for latency in (0.1, 0.0):
        times: dict[str, list[float]] = {"with_claims": [], "without": []}
        for _ in range(reps):
            for claims in (False, True):
                times["with_claims" if claims else "without"].append(round(await once(claims, latency, n), 2))
        out[f"latency_{latency}"] = {**times, "median_ratio": round(
            statistics.median(times["with_claims"]) / statistics.median(times["without"]), 2
        )}  # fmt: skip
        print(latency, out[f"latency_{latency}"], flush=True)
    out["load_after"] = os.getloadavg()[0]
    return out


if __name__ == "__main__":
    results = asyncio.run(main())
    (HERE / "claims.json").write_text(json.dumps(results, indent=2) + "\n")
