"""Batch-API jobs (backend.batch_api) against the loopback server's /v1/files + /v1/batches:
exactly the count at the batch price, failed and expired lines retried, a garbage line
reported, and a job killed mid-batch re-attaching to its batch without paying twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from sentiforge.app.jobs import create_job, resume_job, run_recipe
from sentiforge.backends.openai_batch import parse_lines
from sentiforge.engine import run_job
from sentiforge.recipe import BackendSpec, Recipe, StepSpec
from sentiforge.store import Store
from sentiforge.testing import OpenAITestServer

IN, OUT = 2.0, 8.0  # USD per million tokens


def recipe_for(server: OpenAITestServer, count: int, **backend: Any) -> Recipe:
    spec = BackendSpec(
        kind="openai",
        model="test-model",
        base_url=server.base_url,
        batch_api=True,
        batch_poll_seconds=0.05,
        input_per_mtok=IN,
        output_per_mtok=OUT,
        **backend,
    )
    return Recipe(seed=7, backend=spec, steps=[StepSpec(strategy="generate", params={"count": count, "few_shot": 0})])


def batch_events(store: Store, job: int) -> list[tuple[str, dict[str, Any]]]:
    return [(e.kind, e.data or {}) for e in store.job_events(job) if e.kind.startswith("batch_")]


def half_price(prompt_tokens: int, completion_tokens: int) -> float:
    return 0.5 * (prompt_tokens * IN + completion_tokens * OUT) / 1e6


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'batch.db'}")


async def test_a_batch_job_makes_exactly_the_count_at_half_price(store: Store) -> None:
    with OpenAITestServer() as server:
        result = await run_recipe(recipe_for(server, 30), store, "synthetic")
        live = len(server.requests)
        billed, twice = server.batches.lines_billed, server.batches.billed_twice()
        batches = list(server.batches.batches.values())
    assert result.status == "completed", result.error
    assert result.done == 30 == store.count(store.dataset_id("synthetic"))
    assert store.count(store.dataset_id("synthetic"), by="label") == {"negative": 10, "neutral": 10, "positive": 10}
    assert live == 0  # every answer came from the batch
    assert [b["status"] for b in batches] == ["completed"] and batches[0]["request_counts"]["completed"] == 30
    assert billed == 30 == result.requests and twice == []
    assert result.cost == pytest.approx(half_price(result.prompt_tokens, result.completion_tokens))
    assert result.cost > 0 and store.job(result.job_id).cost == pytest.approx(result.cost)
    kinds = [k for k, _ in batch_events(store, result.job_id)]
    assert kinds == ["batch_file", "batch_created", "batch_collected"]


async def test_failed_lines_go_into_the_next_batch(store: Store) -> None:
    with OpenAITestServer() as server:
        server.batches.script(fail_lines=7)
        result = await run_recipe(recipe_for(server, 20), store, "synthetic")
        live, billed, twice = len(server.requests), server.batches.lines_billed, server.batches.billed_twice()
        sizes = [b["request_counts"]["total"] for b in server.batches.batches.values()]
    assert result.status == "completed" and result.done == 20, result.error
    assert sizes == [20, 7]  # the second batch holds only the failed lines
    collected = [d for k, d in batch_events(store, result.job_id) if k == "batch_collected"]
    assert [(d["answered"], d["failed"]) for d in collected] == [(13, 7), (7, 0)]
    assert "HTTP 500" in collected[0]["errors"][0]
    assert live == 0 and billed == 20 and twice == []
    assert result.cost == pytest.approx(half_price(result.prompt_tokens, result.completion_tokens))


async def test_an_expired_batch_keeps_its_answers_and_the_rest_is_batched_again(store: Store) -> None:
    with OpenAITestServer() as server:
        server.batches.script(expire_after=6)
        result = await run_recipe(recipe_for(server, 15), store, "synthetic")
        statuses = [(b["status"], b["request_counts"]) for b in server.batches.batches.values()]
        billed, twice = server.batches.lines_billed, server.batches.billed_twice()
    assert result.status == "completed" and result.done == 15, result.error
    assert statuses[0] == ("expired", {"total": 15, "completed": 6, "failed": 9})
    assert statuses[1][0] == "completed" and statuses[1][1]["total"] == 9
    assert billed == 15 and twice == []


async def test_a_batch_failing_validation_is_submitted_again(store: Store) -> None:
    with OpenAITestServer() as server:
        server.batches.script(invalid=True)
        result = await run_recipe(recipe_for(server, 10), store, "synthetic")
        statuses = [b["status"] for b in server.batches.batches.values()]
    assert result.status == "completed" and result.done == 10, result.error
    assert statuses == ["failed", "completed"]
    collected = [d for k, d in batch_events(store, result.job_id) if k == "batch_collected"]
    assert "injected fault" in collected[0]["problems"][0]


async def test_a_garbage_line_is_reported_and_only_that_line_is_asked_again(store: Store) -> None:
    with OpenAITestServer() as server:
        server.batches.script(garbage_lines=1)
        result = await run_recipe(recipe_for(server, 12), store, "synthetic")
        sizes = [b["request_counts"]["total"] for b in server.batches.batches.values()]
        twice = server.batches.billed_twice()
    assert result.status == "completed" and result.done == 12, result.error
    collected = [d for k, d in batch_events(store, result.job_id) if k == "batch_collected"]
    assert collected[0]["answered"] == 11 and "is not JSON" in collected[0]["problems"][0]
    assert sizes == [12, 1]
    assert len(twice) == 1  # the provider billed the broken line, and it had to be asked again


async def test_fallback_stop_leaves_the_job_resumable_and_live_sends_the_rest(store: Store) -> None:
    with OpenAITestServer() as server:
        server.batches.script(fail_lines=4)
        recipe = recipe_for(server, 10, batch_rounds=1, batch_fallback="stop")
        stopped = await run_recipe(recipe, store, "synthetic")
        assert stopped.status == "incomplete" and stopped.done == 0
        assert stopped.error and "4 requests of step 0 are still unanswered after 1 provider batches" in stopped.error
        resumed = await run_job(store, stopped.job_id)  # a resume gets fresh rounds
        assert resumed.status == "completed" and resumed.done == 10 and len(server.requests) == 0

        server.batches.script(fail_lines=3)
        other = recipe_for(server, 8, batch_rounds=1).model_copy(update={"seed": 8})  # not answered by the cache
        live = await run_recipe(other, store, "other")
        assert live.status == "completed" and live.done == 8
        assert server.counts["ok"] == 3  # the three failed lines were sent live, at the full price
        batch_cost = half_price(live.prompt_tokens, live.completion_tokens)
        assert live.cost > batch_cost


def test_parse_lines_keeps_good_lines_and_names_broken_ones() -> None:
    ok = '{"custom_id": "a", "response": {"status_code": 200, "body": {"choices": []}}, "error": null}'
    failed = '{"custom_id": "b", "response": null, "error": {"code": "batch_expired", "message": "late"}}'
    outcomes, problems = parse_lines(f"{ok}\n{{broken\n\n{failed}\n[1]\n", "out")
    assert [(o.custom_id, o.body is not None, o.error) for o in outcomes] == [
        ("a", True, None),
        ("b", False, "batch_expired: late"),
    ]
    assert problems == ["out line 2 is not JSON: '{broken'", "out line 5 has no custom_id: '[1]'"]


def test_parse_lines_keeps_a_unicode_line_break_inside_an_answer() -> None:
    content = json.dumps({"choices": [{"message": {"content": "first\u2028second\x85third"}}]}, ensure_ascii=False)
    line = json.dumps(
        {"custom_id": "a", "response": {"status_code": 200, "body": json.loads(content)}}, ensure_ascii=False
    )
    outcomes, problems = parse_lines(line + "\n", "out")
    assert problems == [] and [o.custom_id for o in outcomes] == ["a"]


RUNNER = """
import asyncio, sys
from sentiforge.engine import run_job
from sentiforge.store import Store
print(asyncio.run(run_job(Store(sys.argv[1]), int(sys.argv[2]))).status)
"""


async def test_a_job_killed_mid_batch_reattaches_and_pays_each_line_once(tmp_path: Path, store: Store) -> None:
    script = tmp_path / "run.py"
    script.write_text(RUNNER)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    with OpenAITestServer(batch_line_seconds=0.1) as server:
        job = create_job(store, recipe_for(server, 20), "synthetic")
        url = f"sqlite:///{tmp_path / 'batch.db'}"
        proc = subprocess.Popen([sys.executable, str(script), url, str(job)], env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
        deadline = time.monotonic() + 60
        while not any(b["request_counts"]["completed"] >= 3 for b in list(server.batches.batches.values())):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)
        (batch,) = server.batches.batches.values()
        assert batch["status"] == "in_progress"
        assert [k for k, _ in batch_events(store, job)] == ["batch_file", "batch_created"]

        result = await run_job(store, job)
        billed, twice = server.batches.lines_billed, server.batches.billed_twice()
        assert len(server.batches.batches) == 1 and len(server.requests) == 0
    assert result.status == "completed" and result.done == 20, result.error
    events = batch_events(store, job)
    assert [k for k, _ in events] == ["batch_file", "batch_created", "batch_collected"]
    assert events[2][1]["batch_id"] == batch["id"] and events[2][1]["answered"] == 20
    assert billed == 20 and twice == []
    assert result.requests == 20
    assert result.cost == pytest.approx(half_price(result.prompt_tokens, result.completion_tokens))


def test_cli_generate_with_batch_api(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from sentiforge.cli import app

    db = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    with OpenAITestServer() as server:
        args = ["generate", "-d", "d", "-n", "6", "--backend", "openai", "--base-url", server.base_url]
        prices = ["--model", "test-model", "--input-price", str(IN), "--output-price", str(OUT), "--db", db]
        done = runner.invoke(app, [*args, *prices, "--batch-api"])
        assert done.exit_code == 0, done.output
        assert len(server.batches.batches) == 1 and len(server.requests) == 0
    job = Store(db).list_jobs()[0]
    assert job.recipe["backend"]["batch_api"] is True and job.done == 6
    assert job.cost == pytest.approx(half_price(job.prompt_tokens, job.completion_tokens))
    refused = runner.invoke(app, ["generate", "-d", "e", "--backend", "fake", "--batch-api", "--db", db])
    assert refused.exit_code != 0 and "batch_api needs backend kind 'openai'" in str(refused.exception)


class Crash(BaseException):
    """The process dies here (no handler catches a BaseException but the engine's final flush)."""


@pytest.mark.parametrize("dies_before", ["batch_created", "batch_collected"])
async def test_a_crash_between_provider_and_journal_neither_resubmits_nor_recounts(
    store: Store, monkeypatch: pytest.MonkeyPatch, dies_before: str
) -> None:
    """batch_created: the batch exists at the provider but not in the job's events, so a resume
    finds it by its input file. batch_collected: the answers are committed but the batch is
    still open in the events, so a resume collects it again and skips what it has."""
    from sentiforge.engine.batching import Journal

    real_write = Journal.write

    async def write(self: Journal, kind: str, **data: Any) -> None:
        if kind == dies_before:
            monkeypatch.setattr(Journal, "write", real_write)
            raise Crash
        await real_write(self, kind, **data)

    monkeypatch.setattr(Journal, "write", write)
    with OpenAITestServer() as server:
        recipe = recipe_for(server, 12)
        job = create_job(store, recipe, "synthetic")
        with pytest.raises(Crash):
            await run_job(store, job)
        assert store.job(job).status == "incomplete"
        result = await run_job(store, job)
        billed, twice, batches = server.batches.lines_billed, server.batches.billed_twice(), server.batches.batches
        assert len(batches) == 1 and len(server.requests) == 0
    assert result.status == "completed" and result.done == 12, result.error
    assert billed == 12 and twice == []
    assert result.requests == 12  # each answer accounted once
    assert result.cost == pytest.approx(half_price(result.prompt_tokens, result.completion_tokens))
    kinds = [k for k, _ in batch_events(store, job)]
    assert kinds == ["batch_file", "batch_created", "batch_collected"]


async def test_the_budget_caps_what_is_batched(store: Store) -> None:
    """Each batch holds the requests whose most possible cost fits what is left of the budget;
    the job stops cleanly once none fits, having sent nothing live."""
    with OpenAITestServer() as server:
        recipe = recipe_for(server, 30).model_copy(update={"max_cost": 0.004})
        result = await run_recipe(recipe, store, "synthetic")
        sizes = [b["request_counts"]["total"] for b in server.batches.batches.values()]
        live = len(server.requests)
    assert result.status == "budget_stopped", result.error
    assert result.error and "budget of $0.0040 would be exceeded" in result.error
    assert 0 < result.done < 30 and 0 < sizes[0] < 30 and live == 0
    assert 0 < result.cost <= 0.004
    assert result.cost == pytest.approx(half_price(result.prompt_tokens, result.completion_tokens))


async def test_requests_past_the_file_limits_make_several_batches_a_round(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sentiforge.backends.openai_batch as openai_batch

    monkeypatch.setattr(openai_batch, "MAX_LINES", 5)
    with OpenAITestServer() as server:
        server.batches.script(fail_lines=2)
        result = await run_recipe(recipe_for(server, 12, batch_rounds=2), store, "synthetic")
        sizes = [b["request_counts"]["total"] for b in server.batches.batches.values()]
        billed, twice, live = server.batches.lines_billed, server.batches.billed_twice(), len(server.requests)
    assert result.status == "completed" and result.done == 12, result.error
    assert sizes == [5, 5, 2, 2]  # round 1 in three batches, round 2 the two failed lines
    created = [d["round"] for k, d in batch_events(store, result.job_id) if k == "batch_created"]
    assert created == [1, 1, 1, 2]
    assert billed == 12 and twice == [] and live == 0


def test_chunks_keep_to_the_line_and_byte_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    import sentiforge.backends.openai_batch as openai_batch

    lines = [{"custom_id": str(n), "body": {"x": "y" * 50}} for n in range(7)]
    assert [len(c) for c in openai_batch.chunks(lines)] == [7]
    monkeypatch.setattr(openai_batch, "MAX_LINES", 3)
    assert [len(c) for c in openai_batch.chunks(lines)] == [3, 3, 1]
    monkeypatch.setattr(openai_batch, "MAX_BYTES", 200)  # about 80 bytes a line
    assert [len(c) for c in openai_batch.chunks(lines)] == [2, 2, 2, 1]
    assert openai_batch.chunks([]) == []


async def test_each_shard_of_a_worker_job_batches_its_own_slots(store: Store) -> None:
    from sentiforge.app.shards import run_shard, split

    with OpenAITestServer() as server:
        job = create_job(store, recipe_for(server, 18), "synthetic")
        shards = split(store, job, 10)
        for shard_id in shards:
            assert (await run_shard(store, shard_id)).status == "completed"
        sizes = [b["request_counts"]["total"] for b in server.batches.batches.values()]
        billed, twice, live = server.batches.lines_billed, server.batches.billed_twice(), len(server.requests)
    done = store.job(job)
    assert (done.status, done.done) == ("completed", 18)
    assert sizes == [10, 8] and billed == 18 and twice == [] and live == 0
    assert done.cost == pytest.approx(half_price(done.prompt_tokens, done.completion_tokens))
    scopes = [d["shard"] for k, d in batch_events(store, job) if k == "batch_created"]
    assert scopes == shards


async def test_a_job_cancelled_while_its_batch_runs_resumes_onto_the_same_batch(store: Store) -> None:
    import asyncio

    with OpenAITestServer(batch_line_seconds=0.05) as server:
        job = create_job(store, recipe_for(server, 20), "synthetic")
        running = asyncio.create_task(run_job(store, job, heartbeat_seconds=0.05))
        while not any(b["request_counts"]["completed"] for b in list(server.batches.batches.values())):
            await asyncio.sleep(0.02)
        store.request_cancel(job)
        cancelled = await running
        (batch,) = server.batches.batches.values()
        assert cancelled.status == "cancelled" and batch["status"] == "in_progress"
        resumed = await resume_job(store, job)  # a cancel sticks until a resume
        assert len(server.batches.batches) == 1 and server.batches.billed_twice() == []
    assert resumed.status == "completed" and resumed.done == 20
    assert [d.get("batch_id") for k, d in batch_events(store, job) if k == "batch_collected"] == [batch["id"]]
