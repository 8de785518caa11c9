"""Jobs any process can run: one claim wins, a cancel from another process stops a running job
at a slot boundary and keeps its work, resume finishes it to the exact count."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import delete
from typer.testing import CliRunner

from sentiforge.app import jobs
from sentiforge.cli import app as cli_app
from sentiforge.engine import Engine
from sentiforge.errors import JobConflictError
from sentiforge.recipe import BackendSpec, Recipe, StepSpec
from sentiforge.store import Store
from sentiforge.store.claims import this_process
from sentiforge.store.tables import SampleRow
from sentiforge.testing import FakeBackend

RUNNER = """
import asyncio, sys
from sentiforge.testing import FakeBackend
from sentiforge.engine import Engine
from sentiforge.errors import JobConflictError
from sentiforge.store import Store

url, job_id, latency = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
engine = Engine(Store(url), FakeBackend(latency=latency, max_concurrency=4), heartbeat_seconds=0.1, flush_seconds=0.1)
try:
    result = asyncio.run(engine.run(job_id))
except JobConflictError as exc:
    print("CONFLICT", exc, flush=True)
    sys.exit(3)
print("RESULT", result.status, result.done, flush=True)
"""


def recipe(count: int, concurrency: int = 4) -> Recipe:
    return Recipe(
        backend=BackendSpec(kind="fake", concurrency=concurrency),
        steps=[StepSpec(strategy="generate", params={"count": count})],
    )


def start(script: Path, url: str, job_id: int, latency: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(script), url, str(job_id), str(latency)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "runner.py"
    path.write_text(RUNNER)
    return path


def accepted_texts(store: Store, dataset_id: int) -> list[str]:
    return [s.text for s in store.iter_samples(dataset_id)]


def test_two_processes_claim_one_job_exactly_one_runs(tmp_path: Path, script: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    store = Store(url)
    job_id = jobs.create_job(store, recipe(40), "synthetic")
    procs = [start(script, url, job_id, 0.2) for _ in range(2)]  # a run of ~2 s: both start within it
    outs = [p.communicate(timeout=120) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 3], outs
    winner = next(o for o, p in zip(outs, procs, strict=True) if p.returncode == 0)[0]
    loser = next(o for o, p in zip(outs, procs, strict=True) if p.returncode == 3)[0]
    assert "RESULT completed 40" in winner
    assert "is already running" in loser and "sentiforge cancel" in loser
    texts = accepted_texts(store, store.job(job_id).dataset_id)
    assert len(texts) == 40 == len(set(texts))


def test_a_second_claim_in_process_is_refused_and_a_dead_claim_is_taken_over(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'jobs.db'}")
    job_id = jobs.create_job(store, recipe(3), "synthetic")
    assert store.claim_job(job_id, "host-a:1").status == "running"
    with pytest.raises(JobConflictError, match=f"job {job_id} is already running"):
        store.claim_job(job_id, this_process())
    # a process of this host that no longer exists holds the claim: it is taken over at once
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    store.update_job(job_id, claimed_by=f"{this_process().rsplit(':', 1)[0]}:{dead.stdout.strip()}")
    assert store.claim_job(job_id, this_process()).claimed_by == this_process()
    # a claim whose heartbeat stopped long ago is taken over too
    store.update_job(job_id, claimed_by="other-host:7")
    with pytest.raises(JobConflictError):
        store.claim_job(job_id, "me:1")
    assert store.claim_job(job_id, "me:1", stale_after=-1).claimed_by == "me:1"


def test_cancel_from_another_process_stops_the_job_and_resume_finishes_it(tmp_path: Path, script: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    store = Store(url)
    target = 200
    job_id = jobs.create_job(store, recipe(target), "synthetic")
    proc = start(script, url, job_id, 0.05)
    deadline = time.monotonic() + 60
    while store.job(job_id).done < 12:
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    # the CLI of this (other) process asks the running one to stop
    result = CliRunner().invoke(cli_app, ["cancel", str(job_id), "--db", url])
    assert result.exit_code == 0, result.output
    out, err = proc.communicate(timeout=60)
    assert "RESULT cancelled" in out, err
    stopped = store.job(job_id)
    assert stopped.status == "cancelled" and not stopped.cancel_requested
    assert 12 <= stopped.done < target
    kept = accepted_texts(store, stopped.dataset_id)
    assert len(kept) == stopped.done  # every accepted sample the run made is stored
    finished = asyncio.run(jobs.resume_job(store, job_id, backend=FakeBackend()))
    assert (finished.status, finished.done) == ("completed", target)
    texts = accepted_texts(store, stopped.dataset_id)
    assert len(texts) == target == len(set(texts)) and set(kept) <= set(texts)


def test_cancel_of_a_waiting_job_is_immediate_and_of_a_finished_one_refused(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'jobs.db'}")
    job_id = jobs.create_job(store, recipe(4), "synthetic")
    assert jobs.cancel(store, job_id).status == "cancelled"
    done = asyncio.run(jobs.resume_job(store, job_id, backend=FakeBackend()))
    assert (done.status, done.done) == ("completed", 4)
    with pytest.raises(JobConflictError, match="completed: there is nothing to cancel"):
        jobs.cancel(store, job_id)


def test_database_writes_run_off_the_event_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sentiforge.store.cache import JobWriter

    threads: set[int] = set()
    original = JobWriter.write

    def spy(self: JobWriter, batch: object, **values: object) -> None:
        threads.add(threading.get_ident())
        original(self, batch, **values)  # type: ignore[arg-type]

    monkeypatch.setattr(JobWriter, "write", spy)
    store = Store(f"sqlite:///{tmp_path / 'jobs.db'}")

    async def go() -> int:
        loop_thread = threading.get_ident()
        job_id = jobs.create_job(store, recipe(30), "synthetic")
        engine = Engine(store, FakeBackend(latency=0.01), flush_every=5)
        result = await engine.run(job_id)
        assert result.done == 30
        return loop_thread

    loop_thread = asyncio.run(go())
    assert threads and loop_thread not in threads
    assert len(accepted_texts(store, 1)) == 30


def test_a_job_that_reuses_another_jobs_answers_says_so_and_fresh_sends_them_again(tmp_path: Path) -> None:
    """Issue 21.7: the same request into another dataset is answered from the cache the first job
    filled: the CLI and the job's summary say so, naming the job and the dataset it copies;
    --fresh sends every request again, and a resume of a fresh job pays nothing twice."""
    url = f"sqlite:///{tmp_path / 'reuse.db'}"
    generate = ["generate", "--backend", "fake", "--count", "12", "--db", url]
    first = CliRunner().invoke(cli_app, [*generate, "-d", "first"], terminal_width=200)
    assert first.exit_code == 0 and "warning" not in first.output, first.output
    second = CliRunner().invoke(cli_app, [*generate, "-d", "second"], terminal_width=200)
    assert second.exit_code == 0, second.output
    assert "12 answers came from the cache of earlier jobs (1)" in " ".join(second.output.split())
    with Store(url) as store:
        copied = store.job(2)
        assert (copied.requests, copied.cache_hits) == (0, 12)
        reused = (copied.result or {})["summary"]["reused"]
        assert (reused["answers"], reused["jobs"], reused["datasets"]) == (12, {"1": 12}, ["first"])
    fresh = CliRunner().invoke(cli_app, [*generate, "-d", "third", "--fresh"], terminal_width=200)
    assert fresh.exit_code == 0 and "warning" not in fresh.output, fresh.output
    with Store(url) as store:
        sent = store.job(3)
        assert (sent.requests, sent.cache_hits, sent.status) == (12, 0, "completed")
        assert "reused" not in (sent.result or {})["summary"]
        with store.engine.begin() as conn:  # as if killed before its samples were stored
            conn.execute(delete(SampleRow).where(SampleRow.job_id == 3))
        store.update_job(3, status="incomplete", done=0)
        resumed = asyncio.run(jobs.resume_job(store, 3))  # its own answers, from the cache
        assert (resumed.done, resumed.requests, resumed.cache_hits, resumed.reused) == (12, 12, 12, {})
