"""Orchestration overhead: N generations through the engine against a server with a fixed
latency, compared with the ideal (N * latency / concurrency) and with distilabel doing the
same requests against the same server.

    .venv/bin/python benchmarks/orchestration/run.py            # 2,000 x 100 ms at 32
    .venv/bin/python benchmarks/orchestration/run.py --skip-distilabel --profile

The server runs in its own process (sentiforge.testing.ServerProcess). distilabel runs in
its own venv (created on first use at --distilabel-venv, never in the project's .venv).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sentiforge.app.jobs import run_recipe
from sentiforge.backends.openai_compat import response_format
from sentiforge.engine.plan import step_strategy
from sentiforge.prompts import PromptLibrary
from sentiforge.recipe import BackendSpec, Recipe, StepSpec
from sentiforge.samples import text_hash
from sentiforge.store import Store
from sentiforge.strategies.base import StepContext
from sentiforge.testing import ServerProcess

HERE = Path(__file__).resolve().parent
DISTILABEL = ["distilabel[openai]==1.5.3", "requests"]  # 1.5.3 imports requests without declaring it


def recipe(base_url: str, count: int, concurrency: int) -> Recipe:
    return Recipe(
        name="orchestration-bench",
        scheme="three_class",
        backend=BackendSpec(kind="openai", model="bench", base_url=base_url, concurrency=concurrency, timeout=30),
        steps=[StepSpec(strategy="generate", params={"count": count, "few_shot": 0})],
    )


def run_sentiforge(base_url: str, count: int, concurrency: int, profile: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{tmp}/bench.db")
        job = recipe(base_url, count, concurrency)
        profiler = _profiler() if profile else None
        started, cpu = time.monotonic(), time.process_time()
        result = asyncio.run(run_recipe(job, store, "bench"))
        seconds, cpu = time.monotonic() - started, time.process_time() - cpu
        if profiler is not None:
            profiler.stop()
            (HERE / "profile.txt").write_text(profiler.output_text(unicode=False, show_all=False))
        dataset = store.dataset_id("bench")
        stored = store.count(dataset)
        distinct = len({text_hash(s.text) for s in store.iter_samples(dataset)})
        store.close()
    return {
        "seconds": seconds,
        "client_cpu_ms_per_generation": cpu / count * 1000,
        "status": result.status,
        "done": result.done,
        "stored": stored,
        "distinct": distinct,
    }


def _profiler() -> Any:
    from pyinstrument import Profiler  # pip install pyinstrument into .venv for --profile

    profiler = Profiler(async_mode="enabled")
    profiler.start()
    return profiler


def write_requests(path: Path, count: int) -> None:
    """The exact first-attempt requests the Generate strategy sends, for distilabel."""
    job = recipe("http://unused", count, 1)
    strategy = step_strategy(job.steps[0])
    ctx = StepContext(client=None, scheme=job.label_scheme(), prompts=PromptLibrary())  # type: ignore[arg-type]
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            request, _ = strategy.request(strategy.task(i, ctx), 0, ctx)  # type: ignore[attr-defined]
            system, user = request.messages
            out.write(
                json.dumps(
                    {
                        "system": system.content,
                        "user": user.content,
                        "max_tokens": request.max_tokens,
                        "temperature": request.temperature,
                        "top_p": request.top_p,
                        "response_format": response_format(request.json_schema, "json_schema"),
                    }
                )
                + "\n"
            )


def ensure_distilabel(venv: Path) -> Path:
    python = venv / "bin" / "python"
    probe = [str(python), "-c", "import distilabel, openai, requests; assert distilabel.__version__ == '1.5.3'"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    print(f"creating {venv} with {DISTILABEL[0]} (one time)...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)  # based on the base interpreter
    subprocess.run([str(python), "-m", "pip", "install", "-q", *DISTILABEL], check=True)
    return python


def run_distilabel(python: Path, base_url: str, count: int, concurrency: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        requests = Path(tmp) / "requests.jsonl"
        write_requests(requests, count)
        env = {**os.environ, "DISTILABEL_LOG_LEVEL": "WARNING", "HOME": tmp}
        started = time.monotonic()
        out = subprocess.run(
            [
                str(python),
                str(HERE / "distilabel_job.py"),
                "--requests",
                str(requests),
                "--base-url",
                base_url,
                "--concurrency",
                str(concurrency),
            ],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp,
        )
        wall = time.monotonic() - started
    if out.returncode != 0:
        raise RuntimeError(f"distilabel failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    result["process_seconds"] = wall
    return result


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f} (1 min), {five:.2f} (5 min)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--skip-distilabel", action="store_true")
    parser.add_argument("--distilabel-venv", type=Path, default=Path("/work/bench-venvs/distilabel"))
    parser.add_argument("--profile", action="store_true", help="pyinstrument profile of sentiforge -> profile.txt")
    args = parser.parse_args()
    ideal = args.count * args.latency / args.concurrency
    report: dict[str, Any] = {
        "count": args.count,
        "concurrency": args.concurrency,
        "latency": args.latency,
        "ideal_seconds": ideal,
        "load_before": load(),
        "cpus": os.cpu_count(),
    }
    python = None if args.skip_distilabel else ensure_distilabel(args.distilabel_venv)
    with ServerProcess(latency=args.latency) as server:
        before = server.cpu_seconds() or 0.0
        report["sentiforge"] = run_sentiforge(server.base_url, args.count, args.concurrency, args.profile)
        report["sentiforge"]["server"] = server.stats()
        report["sentiforge"]["server_cpu_ms_per_request"] = ((server.cpu_seconds() or 0.0) - before) / args.count * 1000
        if python is not None:
            server.reset()
            before = server.cpu_seconds() or 0.0
            report["distilabel"] = run_distilabel(python, server.base_url, args.count, args.concurrency)
            report["distilabel"]["server"] = server.stats()
            used = (server.cpu_seconds() or 0.0) - before
            report["distilabel"]["server_cpu_ms_per_request"] = used / args.count * 1000
    s = report["sentiforge"]
    s["x_ideal"] = s["seconds"] / ideal
    s["target_met"] = s["seconds"] <= 1.15 * ideal and s["stored"] == args.count == s["distinct"]  # issue #20
    if "distilabel" in report:
        report["distilabel_over_sentiforge"] = report["distilabel"]["seconds"] / s["seconds"]
    report["load_after"] = load()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
