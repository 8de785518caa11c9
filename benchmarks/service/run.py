"""POST /v1/sentiment behind Gunicorn (deploy/gunicorn.conf.py, 2 Uvicorn workers) on loopback,
under load at a constant rate from this (second) process. Writes results.json beside itself.

    flock /tmp/sentiforge-model.lock .venv/bin/python benchmarks/service/run.py

Trains a TF-IDF and a MiniLM embedding classifier on uci:yelp with `sentiforge train` into a
temp classifiers folder (or reuses ``--classifiers``), makes a predict key in a temp SQLite
store, starts Gunicorn, then for each scenario: a short closed-loop run (the ceiling at that
concurrency) and an open-loop run at the target rate, latency from each scheduled send time.
The load generator shares the machine's cores with the server: its CPU share is reported.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).parent))
from loadgen import build, closed_loop, open_loop

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
CLI = Path(sys.executable).parent / "sentiforge"
TEXTS = [
    "The food was wonderful and the staff were friendly, we will be back.",
    "Waited forty minutes for a cold burger. Never again.",
    "It was fine, nothing special, the fries were a bit salty.",
    "Best pho in town, the broth is rich and the portions are huge!",
    "The waiter ignored us and the bill was wrong twice.",
    "Nice place for a quick lunch; prices are reasonable.",
    "Terrible service, rude manager, dirty tables.",
    "I loved the desserts but the main course was bland.",
]
# name, model, texts per request, open-loop rate (requests/s), closed-loop connections
SCENARIOS = [
    ("health", None, 0, 300.0, 8),
    ("tfidf-single", "tfidf", 1, 300.0, 8),
    ("tfidf-batch32", "tfidf", 32, 50.0, 4),
    ("minilm-single", "minilm", 1, 20.0, 2),
    ("minilm-batch32", "minilm", 32, 4.0, 2),
]
TARGETS = {
    "tfidf-single": {"rate_rps": 300.0, "p99_ms": 25.0, "errors": 0},
    "minilm-batch32": {"p99_ms": 250.0, "errors": 0},
}


def sh(cmd: list[str], **env: str) -> None:
    subprocess.run(cmd, check=True, env={**os.environ, **env}, cwd=ROOT)


def train(folder: Path, db: str, names: set[str]) -> None:
    """The models the scenarios need, with the application layer's CLI, unless already there."""
    for name, kind in (("tfidf", "tfidf"), ("minilm", "embedding")):
        if name in names and not (folder / name / "model.json").is_file():
            t = time.perf_counter()
            sh(
                [str(CLI), "train", "uci:yelp", "-c", kind, "-o", str(folder / name)],
                SENTIFORGE_DATABASE_URL=db,
            )
            print(f"trained {name} in {time.perf_counter() - t:.0f} s", flush=True)


def make_key(db: str) -> str:
    from sentiforge.store import Store

    with Store(db) as store:
        return store.create_key("bench", ["predict"])[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int, folder: Path, db: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "2",
        "SENTIFORGE_DATABASE_URL": db,
        "SENTIFORGE_CLASSIFIERS_DIR": str(folder),
        "SENTIFORGE_HOME": str(folder.parent),
        "SENTIFORGE_RATE_LIMIT_PER_MINUTE": "0",  # a benchmark key; the limiter's cost stays in the path
        "PROMETHEUS_MULTIPROC_DIR": str(folder.parent / "metrics"),
    }
    gunicorn = Path(sys.executable).parent / "gunicorn"
    out = log.open("wb")
    proc = subprocess.Popen([str(gunicorn), "-c", "deploy/gunicorn.conf.py"], cwd=ROOT, env=env, stdout=out, stderr=out)
    for _ in range(600):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).read()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"gunicorn did not answer; see {log}")


def requests_for(port: int, token: str, model: str | None, n: int) -> Iterator[bytes]:
    """Requests with texts never sent before (the embedding classifier memoises vectors by
    text: repeats would measure its cache, not MiniLM), cycling after 20,000 texts."""
    if model is None:
        return itertools.repeat(build("127.0.0.1", port, "GET", "/health"))
    raws = []
    for i in range(min(4000, 20_000 // n)):
        texts = [f"{TEXTS[(i + j) % len(TEXTS)]} ({i}.{j})" for j in range(n)]
        body: dict[str, Any] = {"text": texts[0]} if n == 1 else {"texts": texts}
        raws.append(build("127.0.0.1", port, "POST", "/v1/sentiment", {**body, "model": model}, token))
    return itertools.cycle(raws)


def server_cpu(proc: subprocess.Popen[bytes]) -> float:
    master = psutil.Process(proc.pid)
    total = 0.0
    for p in [master, *master.children(recursive=True)]:
        t = p.cpu_times()
        total += t.user + t.system
    return total


async def scenario(
    port: int, raws: Iterator[bytes], rate: float, conns: int, seconds: float, proc: Any
) -> dict[str, Any]:
    await open_loop("127.0.0.1", port, raws, min(rate, 20.0), 1.0)  # warm: models loaded, connections up
    cpu = server_cpu(proc)
    ceiling = (await closed_loop("127.0.0.1", port, raws, seconds / 2, conns)).summary()
    ceiling["server_cpu_share"] = round((server_cpu(proc) - cpu) / ceiling["seconds"], 3)
    await asyncio.sleep(1.0)
    cpu = server_cpu(proc)
    paced = (await open_loop("127.0.0.1", port, raws, rate, seconds)).summary()
    paced["rate_rps"] = rate
    paced["server_cpu_share"] = round((server_cpu(proc) - cpu) / paced["seconds"], 3)
    return {"ceiling": ceiling, "paced": paced}


def run_loop(coro: Any) -> Any:
    try:
        import uvloop  # a cheaper client leaves more CPU to the server

        return uvloop.run(coro)
    except ImportError:
        return asyncio.run(coro)


def verdicts(results: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, target in TARGETS.items():
        if name not in results:
            continue
        paced = results[name]["paced"]
        met = paced["p99_ms"] < target["p99_ms"] and not paced["errors"]
        if "rate_rps" in target:
            met = met and paced["throughput_rps"] >= 0.98 * target["rate_rps"]
        out[name] = {
            "target": target,
            "p99_ms": paced["p99_ms"],
            "errors": paced["errors"],
            "throughput_rps": paced["throughput_rps"],
            "met": met,
        }
    return out


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--classifiers", type=Path, help="reuse (or train into) this folder")
    p.add_argument("--seconds", type=float, default=15.0, help="open-loop seconds per scenario (closed: half)")
    p.add_argument("--only", nargs="*", help="scenario names to run")
    p.add_argument("--rate", action="append", default=[], help="NAME=RPS to override a scenario's rate")
    p.add_argument("--out", type=Path, default=HERE / "results.json")
    return p.parse_args()


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    folder = args.classifiers or work / "classifiers"
    db = f"sqlite:///{work / 'bench.db'}"
    chosen = [sc for sc in SCENARIOS if not args.only or sc[0] in args.only]
    train(folder, db, {str(sc[1]) for sc in chosen})
    token = make_key(db)
    port = free_port()
    proc = start_server(port, folder, db, work / "gunicorn.log")
    rates = {k: float(v) for k, v in (r.split("=") for r in args.rate)}
    results: dict[str, Any] = {}
    try:
        for name, model, n, rate, conns in chosen:
            raws = requests_for(port, token, model, n)
            results[name] = run_loop(scenario(port, raws, rates.get(name, rate), conns, args.seconds, proc))
            print(name, json.dumps(results[name]), flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return results


def main() -> None:
    args = parse()
    with tempfile.TemporaryDirectory(prefix="sentiforge-servicebench-") as tmp:
        started, load = time.time(), os.getloadavg()
        results = run(args, Path(tmp))
    report = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_average_before": load},
        "setup": "gunicorn -c deploy/gunicorn.conf.py, 2 Uvicorn workers, SQLite store, loopback; "
        "load generator in a second process on the same 2 cores (not pinned; its CPU share is reported)",
        "seconds": args.seconds,
        "scenarios": results,
        "verdicts": verdicts(results),
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report["verdicts"], indent=2))


if __name__ == "__main__":
    main()
