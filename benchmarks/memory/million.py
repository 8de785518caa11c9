"""The million-sample job (issue #13): 1,000,000 samples with the fake backend streaming to a
store, optionally SIGKILLed part-way and resumed, then checked (exactly N distinct samples)
and, optionally, gated by the quality gate's dedup (exact + MinHash) over the whole dataset.

Each phase runs in its own process so its peak RSS is its own:

    nice -n 10 .venv/bin/python benchmarks/memory/million.py --out last_run_1m_sqlite.json
    nice -n 10 .venv/bin/python benchmarks/memory/million.py --kill-at 500000 \
        --db postgresql://postgres@127.0.0.1:5432/sentiforge_million --out last_run_1m_postgres.json

The job runs like ``run.py``'s (one generate step, 3 labels x 3 domains x 2 tones x 2 lengths,
concurrency 8, flush every 100); every 10,000 samples the job process prints its RSS and time.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

DATASET = "memory-benchmark"


def _emit(**row: Any) -> None:
    print(json.dumps(row), flush=True)


def child_job(db: str, job_id: int, every: int) -> None:
    from run import QuietFake, peak_mb, rss_mb  # type: ignore[import-not-found]

    from sentiforge.engine import Engine
    from sentiforge.store import Store

    store = Store(db)
    started = time.monotonic()
    last = {"done": -1}

    def progress(done: int, target: int, rejected: int) -> None:
        if done % every == 0 and done != last["done"]:
            last["done"] = done
            _emit(done=done, rss_mb=round(rss_mb(), 1), seconds=round(time.monotonic() - started, 1))

    result = asyncio.run(Engine(store, QuietFake(), progress=progress, flush_every=100).run(job_id))
    _emit(
        final=True,
        status=result.status,
        requests=result.requests,
        rejected=result.rejected,
        seconds=round(time.monotonic() - started, 1),
        peak_rss_mb=round(peak_mb(), 1),
    )
    store.close()


def child_verify(db: str) -> None:
    from run import peak_mb  # type: ignore[import-not-found]

    from sentiforge.store import Store

    store = Store(db)
    dataset_id = store.dataset_id(DATASET)
    started = time.monotonic()
    texts: set[int] = set()
    ids: set[Any] = set()
    n = 0
    for sample in store.iter_samples(dataset_id, status="accepted"):
        n += 1
        texts.add(int.from_bytes(hashlib.blake2b(sample.text.encode(), digest_size=8).digest(), "big"))
        ids.add(sample.id)
    _emit(
        accepted=store.count(dataset_id),
        all_rows=store.count(dataset_id, status=None),
        iterated=n,
        distinct_texts=len(texts),
        distinct_ids=len(ids),
        seconds=round(time.monotonic() - started, 1),
        peak_rss_mb=round(peak_mb(), 1),
    )
    store.close()


def child_dedup(db: str) -> None:
    from run import peak_mb  # type: ignore[import-not-found]

    from sentiforge.quality.config import QualityConfig
    from sentiforge.quality.runner import run_quality
    from sentiforge.store import Store

    store = Store(db)
    config = QualityConfig.model_validate(
        {
            "filters": {
                "language": "off",
                "unknown_language": "off",
                "refusals": "off",
                "meta_text": "off",
                "template_leftovers": "off",
            },
            "dedup": {"exact": True, "minhash": True, "embedding": False, "seed_copies": False},
            "leakage": {"enabled": False},
            "consistency": {"judge": False, "classifier": False},
        }
    )
    started = time.monotonic()
    cpu = time.process_time()
    summary = run_quality(store, DATASET, config, embedder=False)
    _emit(
        examined=summary.examined,
        counts=summary.counts,
        check_seconds=summary.seconds,
        seconds=round(time.monotonic() - started, 1),
        cpu_seconds=round(time.process_time() - cpu, 1),
        peak_rss_mb=round(peak_mb(), 1),
        accepted_after=store.count(store.dataset_id(DATASET)),
    )
    store.close()


def spawn(mode: str, db: str, *extra: str) -> subprocess.Popen[str]:
    cmd = [sys.executable, __file__, "--child", mode, "--db", db, *extra]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=os.environ.copy())


def run_job_process(db: str, job_id: int, every: int, kill_at: int | None) -> dict[str, Any]:
    """One job process; SIGKILLed once it reports ``kill_at`` samples done."""
    proc = spawn("job", db, "--job-id", str(job_id), "--every", str(every))
    started = time.monotonic()
    curve: list[dict[str, Any]] = []
    final: dict[str, Any] = {}
    killed = False
    assert proc.stdout is not None
    for line in proc.stdout:
        row = json.loads(line)
        if row.get("final"):
            final = row
            continue
        curve.append(row)
        print(f"  {row}", file=sys.stderr, flush=True)
        if kill_at is not None and row["done"] >= kill_at and not killed:
            os.kill(proc.pid, signal.SIGKILL)
            killed = True
    rc = proc.wait()
    out = {"rc": rc, "wall_s": round(time.monotonic() - started, 1), "curve": curve, **final}
    if killed:
        out["killed_at_done"] = curve[-1]["done"]
        out["peak_rss_mb"] = max(r["rss_mb"] for r in curve)  # VmRSS samples (killed: no ru_maxrss)
    return out


def run_one(mode: str, db: str) -> dict[str, Any]:
    proc = spawn(mode, db)
    out, _ = proc.communicate()
    if proc.returncode:
        raise SystemExit(f"{mode} failed with {proc.returncode}")
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def create(db: str, count: int) -> int:
    from sentiforge.app.jobs import create_job
    from sentiforge.recipe import BackendSpec, Recipe, StepSpec
    from sentiforge.store import Store

    recipe = Recipe(
        name="memory-benchmark",
        backend=BackendSpec(kind="fake", concurrency=8),
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
    store = Store(db)
    job_id = create_job(store, recipe, DATASET)
    store.close()
    return job_id


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=1_000_000)
    ap.add_argument("--db", help="store URL (default: a SQLite file in a temp folder)")
    ap.add_argument("--kill-at", type=int, help="SIGKILL the job once this many samples are done, then resume")
    ap.add_argument("--every", type=int, default=10_000)
    ap.add_argument("--no-dedup", action="store_true")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--child", choices=["job", "verify", "dedup"], help=argparse.SUPPRESS)
    ap.add_argument("--job-id", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child == "job":
        return child_job(args.db, args.job_id, args.every)
    if args.child == "verify":
        return child_verify(args.db)
    if args.child == "dedup":
        return child_dedup(args.db)
    with tempfile.TemporaryDirectory(prefix="sentiforge-million-") as tmp:
        db = args.db or f"sqlite:///{tmp}/bench.db"
        report: dict[str, Any] = {"count": args.count, "db": db.split(":")[0], "load_before": os.getloadavg()}
        job_id = create(db, args.count)
        runs = [run_job_process(db, job_id, args.every, args.kill_at)]
        if args.kill_at is not None:
            report["after_kill"] = run_one("verify", db)
            runs.append(run_job_process(db, job_id, args.every, None))  # the resume
        report["runs"] = runs
        report["verify"] = run_one("verify", db)
        report["load_after_job"] = os.getloadavg()
        if not args.no_dedup:
            report["dedup"] = run_one("dedup", db)
            report["load_after_dedup"] = os.getloadavg()
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
