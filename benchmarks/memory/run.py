"""Peak memory of a 100,000-sample job with the fake backend, then of exporting it.

Samples stream to the store in flushes of ``--flush-every`` and stream out of it in pages,
so memory should stay flat as the job grows: this prints the resident set size (RSS) at
every tenth of the job, the peak, and the time taken, and fails (exit 1) above ``--limit-mb``.

    .venv/bin/python benchmarks/memory/run.py                 # 100,000 samples, temp SQLite
    .venv/bin/python benchmarks/memory/run.py --count 20000 --db postgresql://postgres@127.0.0.1/bench
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sentiforge.app.jobs import create_job
from sentiforge.backends.base import ChatRequest, Completion
from sentiforge.engine import Engine
from sentiforge.io.exporters import export_dataset
from sentiforge.recipe import BackendSpec, Recipe, StepSpec
from sentiforge.store import Store
from sentiforge.testing import FakeBackend


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


class QuietFake(FakeBackend):
    """The fake backend without its request history (a test aid that keeps every request)."""

    async def complete(self, request: ChatRequest) -> Completion:
        completion = await super().complete(request)
        self.history.clear()
        return completion


def run_job(store: Store, count: int, args: argparse.Namespace) -> dict[str, Any]:
    recipe = Recipe(
        name="memory-benchmark",
        backend=BackendSpec(kind="fake", concurrency=args.concurrency),
        steps=[
            StepSpec(
                params={
                    "count": count,
                    "lengths": ["short", "medium"],
                    "attributes": {"domain": ["bank", "telecom", "retail"], "tone": ["calm", "angry"]},
                }
            )
        ],
    )
    job = create_job(store, recipe, "memory-benchmark")
    backend: FakeBackend = FakeBackend() if args.keep_history else QuietFake()
    curve: list[dict[str, float]] = []
    started = time.monotonic()
    step = max(count // 10, 1)

    def progress(done: int, target: int, rejected: int) -> None:
        if done % step == 0 and (not curve or curve[-1]["done"] != done):
            curve.append({"done": done, "rss_mb": round(rss_mb(), 1), "seconds": round(time.monotonic() - started, 1)})

    engine = Engine(store, backend, progress=progress, flush_every=args.flush_every)
    result = asyncio.run(engine.run(job))
    seconds = time.monotonic() - started
    stored = store.count(result.dataset_id)
    assert result.status == "completed" and stored == count, (result, stored)
    return {
        "samples": stored,
        "rejected": result.rejected,
        "requests": result.requests,
        "seconds": round(seconds, 1),
        "samples_per_second": round(stored / seconds),
        "peak_rss_mb": round(peak_mb(), 1),
        "curve": curve,
    }


def run_export(store: Store, out: Path) -> dict[str, Any]:
    started = time.monotonic()
    result = export_dataset(store, "memory-benchmark", out, format="jsonl")
    return {
        "seconds": round(time.monotonic() - started, 1),
        "counts": result.counts,
        "rss_mb": round(rss_mb(), 1),
        "peak_rss_mb": round(peak_mb(), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--db", help="store URL (default: a SQLite file in a temp folder)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--flush-every", type=int, default=100)
    parser.add_argument("--limit-mb", type=float, default=400.0)
    parser.add_argument("--keep-history", action="store_true", help="use the stock FakeBackend (keeps every request)")
    parser.add_argument("--no-export", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sentiforge-membench-") as tmp:
        store = Store(args.db or f"sqlite:///{tmp}/bench.db")
        report: dict[str, Any] = {
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            "load_before": os.getloadavg()[0],
            "db": store.engine.dialect.name,
            "rss_at_start_mb": round(rss_mb(), 1),
        }
        report["job"] = run_job(store, args.count, args)
        if not args.no_export:
            report["export"] = run_export(store, Path(tmp) / "export")
        report["load_after"] = os.getloadavg()[0]
        store.close()
    print(json.dumps(report, indent=2))
    peak = max(report["job"]["peak_rss_mb"], report.get("export", {}).get("peak_rss_mb", 0))
    if peak > args.limit_mb:
        print(f"FAIL: peak RSS {peak:.0f} MB is above {args.limit_mb:.0f} MB", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
