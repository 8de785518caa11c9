"""Crash-resume proof: a job killed with SIGKILL mid-run resumes to exactly the requested
count, with no duplicate samples, and never re-sends a request whose response run 1 had
committed to the cache. And a budget cap stops a job cleanly; a larger budget finishes it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from sentiforge.app.jobs import create_job, resume_job
from sentiforge.engine import Engine
from sentiforge.recipe import BackendSpec, Recipe, StepSpec
from sentiforge.store import Store
from sentiforge.store.tables import CacheRow, SampleRow
from sentiforge.testing import FakeBackend

TARGET = 120

RUNNER = '''
import asyncio, hashlib, sys
from sentiforge.testing import FakeBackend
from sentiforge.engine import Engine
from sentiforge.store import Store

class LoggingFake(FakeBackend):
    """Slow, and writes each request's cache key to a log (one flushed line) before answering.
    One request in five gets an answer that is not JSON, so slots also retry and refill."""

    def __init__(self, log):
        super().__init__(latency=0.1, max_concurrency=4)
        self.log = open(log, "a", buffering=1)
        self.responder = self.answer

    def answer(self, request):
        digest = hashlib.sha256(request.cache_key(self.key).encode()).digest()
        return "not json" if digest[0] % 5 == 0 else self.default_answer(request)

    async def complete(self, request):
        self.log.write(request.cache_key(self.key) + "\\n")
        self.log.flush()
        return await super().complete(request)

url, job_id, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
result = asyncio.run(Engine(Store(url), LoggingFake(log), flush_every=5, flush_seconds=0.2).run(job_id))
print(result.status, result.done, result.rejected)
'''


def start(script: Path, url: str, job: int, log: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(script), url, str(job), str(log)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(store: Store, dataset: int, n: int, proc: subprocess.Popen[str], timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = store.count(dataset)
        if done >= n:
            return done
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    raise AssertionError(f"fewer than {n} samples after {timeout} s")


def test_sigkill_mid_run_then_resume(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'resume.db'}"
    store = Store(url)
    recipe = Recipe(backend=BackendSpec(kind="fake", concurrency=4), steps=[StepSpec(params={"count": TARGET})])
    job = create_job(store, recipe, "synth")
    dataset = store.job(job).dataset_id
    script = tmp_path / "run_job.py"
    script.write_text(RUNNER)
    log1, log2 = tmp_path / "sent1.log", tmp_path / "sent2.log"

    first = start(script, url, job, log1)
    wait_for(store, dataset, 30, first)
    os.kill(first.pid, signal.SIGKILL)
    first.communicate(timeout=30)
    assert first.returncode == -signal.SIGKILL
    with store.session() as s:
        committed = set(s.scalars(select(CacheRow.key)))
    killed_at = store.count(dataset)
    assert 30 <= killed_at < TARGET and store.job(job).status == "running"
    sent1 = log1.read_text().split()
    assert committed and committed <= set(sent1)

    second = start(script, url, job, log2)
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    assert out.split()[:2] == ["completed", str(TARGET)]

    sent2 = log2.read_text().split()
    again = committed & set(sent2)
    assert sent2 and not again, f"{len(again)} responses committed by run 1 were requested again"
    assert len(sent2) == len(set(sent2))
    print(
        f"killed at {killed_at}/{TARGET}; run 1 sent {len(sent1)}, committed {len(committed)}; run 2 sent "
        f"{len(sent2)}, {len(set(sent1) & set(sent2))} of them sent by run 1 but lost with it"
    )
    assert store.count(dataset) == TARGET and store.job(job).done == TARGET
    with store.session() as s:
        mine = (SampleRow.dataset_id == dataset, SampleRow.status == "accepted")
        slots = s.scalar(select(func.count(func.distinct(SampleRow.slot))).where(*mine))
        hashes = s.scalar(select(func.count(func.distinct(SampleRow.text_hash))).where(*mine))
    rejects = store.count(dataset, status="rejected")
    assert slots == hashes == TARGET
    # refills took over the failed slots' labels: the class quotas are still exact
    assert store.count(dataset, by="label") == {"negative": 40, "neutral": 40, "positive": 40}
    assert rejects and rejects == store.job(job).rejected  # the retried slots kept their rejects once
    store.close()


async def test_budget_stops_cleanly_and_a_larger_budget_finishes(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'budget.db'}")
    backend = BackendSpec(kind="fake", concurrency=2, input_per_mtok=10.0, output_per_mtok=40.0)
    recipe = Recipe(backend=backend, steps=[StepSpec(params={"count": 40})], max_cost=0.1)
    job = create_job(store, recipe, "synth")
    fake = FakeBackend()
    first = await Engine(store, fake, flush_every=3).run(job)
    assert first.status == "budget_stopped" and "budget" in (first.error or "")
    assert 0 < first.done < 40 and first.cost <= 0.1
    row = store.job(job)
    assert (row.status, row.done, row.requests) == ("budget_stopped", first.done, first.requests)
    assert store.count(row.dataset_id) == first.done  # everything made was flushed

    store.update_job(job, recipe=recipe.model_copy(update={"max_cost": 1.0}).dump())
    more = FakeBackend()
    second = await resume_job(store, job, backend=more)
    assert second.status == "completed" and second.done == 40 and second.cost <= 1.0
    assert len(fake.history) + len(more.history) == second.requests  # nothing was paid for twice
    texts = [s.text for s in store.samples(row.dataset_id)]
    assert len(texts) == len(set(texts)) == 40
    store.close()


RUN_ONE = """
import asyncio, sys
from sentiforge.engine import run_job
from sentiforge.store import Store
print(asyncio.run(run_job(Store(sys.argv[1]), int(sys.argv[2]))).status)
"""


def test_a_killed_job_repays_only_answers_in_flight_and_counts_what_it_paid(tmp_path: Path) -> None:
    """Issue 21.6: SIGKILL of an in-process job between two flushes of its samples, then a resume:
    the answers the killed process was paid for come from the cache (not one is paid twice but
    those in flight at the kill), and the job's counters include them."""
    from sentiforge.app.jobs import resume_job as resume
    from sentiforge.testing.server import OpenAITestServer

    url = f"sqlite:///{tmp_path / 'paid.db'}"
    store = Store(url)
    script = tmp_path / "run_one.py"
    script.write_text(RUN_ONE)
    with OpenAITestServer(latency=0.05) as server:
        spec = BackendSpec(kind="openai", base_url=server.base_url, model=f"m-{time.time()}", concurrency=4)
        job = create_job(store, Recipe(backend=spec, steps=[StepSpec(params={"count": 240})]), "paid")
        proc = subprocess.Popen([sys.executable, str(script), url, str(job)], stdout=subprocess.PIPE, text=True)
        while store.job(job).done < 87:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.02)
        time.sleep(0.5)  # half a flush period: answers paid, their samples not yet stored
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)
        killed = store.job(job)
        paid_by_killed = len(server.requests)
        result = asyncio.run(resume(store, job))
        twice = server.answered_twice()
        final = store.job(job)
    print(
        f"killed at {killed.done}/240 having been answered {paid_by_killed} requests ({killed.requests} counted); "
        f"resume: {final.cache_hits} cache hits, {len(twice)} answered twice ({100 * len(twice) / 240:.1f}%)"
    )
    assert (result.status, result.done, store.count(final.dataset_id)) == ("completed", 240, 240)
    assert len(twice) <= spec.concurrency  # only the answers in flight at the kill
    assert final.cache_hits > 0  # answers the killed process paid for, its samples lost with it
    assert 0 <= len(server.requests) - final.requests <= spec.concurrency  # the counters include them
    assert killed.requests >= paid_by_killed - spec.concurrency
    store.close()
