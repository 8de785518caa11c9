"""A job's requests through a provider's batch API (``backend.batch_api``), at the batch price.

Before a step runs its slots the normal way, each slot that still needs an answer is run
"dry": its strategy asks a client that answers only from the response cache and writes down
each request it cannot answer (a DeferredRequestError ends that slot's dry run). Those requests
go into one provider batch; its answers are put into the response cache under the keys live
answers have, and accounted at the batch price (``batch_discount`` times the job's prices).
The dry run is then repeated: slots whose line failed in the batch (or expired with it),
whose answer was rejected (the next attempt asks again) or that ask a second question make
the next, smaller batch; at most ``batch_rounds`` batches per step. Then the step runs as
every step does and finds its answers in the cache, so parsing, the quality gate, quotas and
de-duplication stay the same; what is still unanswered is sent live (``batch_fallback:
live``) or stops the job, resumable (``stop``). Refills (spare slots for slots whose every
attempt failed) are only known while the step runs, so they are sent live.

Restarts: each batch is written to the job's events before it is waited for (``batch_file``
once its input is uploaded, ``batch_created`` with the batch id, ``batch_collected`` once its
answers are committed), so a resumed job re-attaches to its running batch instead of
submitting, and paying for, the same requests again. A batch whose creation was cut off is
found again by its input file. Answers are committed with the job's counters in one
transaction; one collected twice is skipped, so it is neither paid nor counted twice.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import TYPE_CHECKING, Any, Protocol

from sentiforge.backend_spec import OpenAISpec
from sentiforge.backends.base import BatchBackend, BatchService, ChatRequest, Completion
from sentiforge.backends.client import Accounting, LLMClient, Pricing
from sentiforge.engine.plan import step_strategy
from sentiforge.errors import (
    BudgetExceededError,
    ConfigError,
    DeferredRequestError,
    InvalidOutputError,
    TransientBackendError,
)
from sentiforge.samples import text_hash

if TYPE_CHECKING:
    from sentiforge.engine.step import StepRun
    from sentiforge.recipe import Recipe
    from sentiforge.store import Store
    from sentiforge.store.schemas import JobPublic
    from sentiforge.store.shards import ShardPublic

log = logging.getLogger(__name__)
MAX_REPORTED = 20  # problems and line errors kept in a batch_collected event


class BatchedRun(Protocol):
    """What batching needs of the run it answers for (the engine's JobRun, engine/run.py): the job, its
    client and what it has filled, and its stop reason, which batching may set too."""

    store: Store
    job: JobPublic
    recipe: Recipe
    shard: ShardPublic | None
    client: LLMClient
    done_slots: set[str]
    hashes: set[str]
    stop: str | None
    error: str | None

    async def checkpoint(self) -> None:
        """Commit what is buffered (samples, cached answers) with the job's counters now."""
        ...


class RecordingClient(LLMClient):
    """Answers from the response cache only; writes down every other request and defers it."""

    def __init__(self, client: LLMClient) -> None:
        pricing = Accounting(pricing=client.accounting.pricing)
        super().__init__(client.backend, cache=client.cache, accounting=pricing, cache_scope=client.cache_scope)
        self.missing: dict[str, ChatRequest] = {}

    async def complete(self, request: ChatRequest) -> Completion:
        key = self.key(request)
        hit = self.cache.get(key)
        if hit is not None:
            return hit.model_copy(update={"cached": True})
        self.missing.setdefault(key, request)
        raise DeferredRequestError("this request waits for a provider batch")


class Journal:
    """A step's batches, as the job's events record them (events ``batch_*``)."""

    def __init__(self, store: Store, job_id: int, step: int, shard: int | None) -> None:
        self.store, self.job_id, self.scope = store, job_id, {"step": step, "shard": shard}
        self.events: list[tuple[str, dict[str, Any]]] = []
        after = 0
        while True:
            page = store.job_events(job_id, after=after)
            self.events += [(e.kind, e.data or {}) for e in page if self._mine(e.kind, e.data or {})]
            if len(page) < 1000:
                break
            after = page[-1].id

    def _mine(self, kind: str, data: dict[str, Any]) -> bool:
        return kind.startswith("batch_") and all(data.get(k) == v for k, v in self.scope.items())

    @property
    def rounds(self) -> int:
        """Rounds of batches since the last fallback (a resume after ``stop`` gets fresh rounds);
        a round is one batch, or several when the requests pass a provider's file limits."""
        rounds: set[Any] = set()
        for kind, data in self.events:
            if kind == "batch_fallback":
                rounds.clear()
            elif kind == "batch_created":
                rounds.add(data.get("round"))
        return len(rounds)

    def open(self) -> list[dict[str, Any]]:
        """The batches submitted and not collected yet: their file ids, and batch ids once created."""
        pending: dict[Any, dict[str, Any]] = {}
        for kind, data in self.events:
            if kind in {"batch_file", "batch_created"}:
                pending[data.get("file_id")] = data
            elif kind == "batch_collected":
                pending = {f: d for f, d in pending.items() if d.get("batch_id") != data.get("batch_id")}
        return list(pending.values())

    async def write(self, kind: str, **data: Any) -> None:
        data = {**self.scope, **data}
        await asyncio.to_thread(self.store.add_job_event, self.job_id, kind, **data)
        self.events.append((kind, data))


async def prefetch_step(job: BatchedRun, run: StepRun) -> None:
    """Answer a step's requests through provider batches (see the module docstring)."""
    spec = batch_spec(job)
    api = _backend(job).open_batches()
    shard = job.shard.id if job.shard is not None else None
    journal = await asyncio.to_thread(Journal, job.store, job.job.id, run.ctx.step, shard)
    try:
        while not job.stop:
            missing = await collect_missing(job, run)
            batch_ids = await _reattach(api, journal)
            if not batch_ids:
                if not missing:
                    return
                if journal.rounds >= spec.batch_rounds:
                    await _give_up(job, journal, len(missing))
                    return
                batch_ids = await _submit(api, job, journal, missing)
            for batch_id in batch_ids:  # they run side by side at the provider
                batch = await api.wait(batch_id, longest=spec.batch_poll_seconds, stopped=lambda: job.stop is not None)
                if batch is None:  # cancelled or taken over: the batch runs on, a resume re-attaches to it
                    return
                await _collect(api, job, journal, batch, missing)
            if not batch_ids:  # the budget pays for none
                return
    finally:
        await api.aclose()


async def collect_missing(job: BatchedRun, run: StepRun) -> dict[str, ChatRequest]:
    """The requests the step's unfilled slots would send now, by cache key (a dry run)."""
    recorder = RecordingClient(job.client)
    spec = job.recipe.steps[run.ctx.step]
    strategy = step_strategy(spec)  # a fresh one: the dry run leaves no state behind
    ctx = dataclasses.replace(run.ctx, client=recorder)
    step = run.ctx.step
    seen = set(job.hashes)  # as the engine does, a repeated text is rejected: the next attempt asks again
    indices = range(job.shard.start, job.shard.stop) if job.shard is not None else range(run.size)
    for index in indices:
        if f"{step}:{index}" in job.done_slots or job.stop:
            continue
        task = strategy.task(index, ctx)
        for attempt in range(job.recipe.max_attempts):
            try:
                sample = await strategy.run(task, attempt, ctx)
            except DeferredRequestError:
                break
            if sample.status == "accepted" and text_hash(sample.text) not in seen:
                seen.add(text_hash(sample.text))
                break
    return recorder.missing


async def _reattach(api: BatchService, journal: Journal) -> list[str]:
    """The ids of the step's batches still open from an earlier run, if any."""
    ids = []
    for entry in journal.open():
        if entry.get("batch_id"):
            ids.append(str(entry["batch_id"]))
            continue
        found = await api.find(str(entry["file_id"]))  # uploaded, then cut off around the create call
        if found is not None:
            data = {k: entry.get(k) for k in ("file_id", "lines", "round")}
            await journal.write("batch_created", batch_id=found["id"], **data)
            ids.append(str(found["id"]))
    return ids


def _backend(job: BatchedRun) -> BatchBackend:
    """The job's backend, if it can batch (it says so: :class:`~sentiforge.backends.base.BatchBackend`)."""
    backend = job.client.backend
    if not isinstance(backend, BatchBackend):
        raise ConfigError(f"batch_api needs an OpenAI-compatible backend, not {backend.name!r}")
    return backend


def batch_spec(job: BatchedRun) -> OpenAISpec:
    """The job's backend spec: an openai one, the only kind the engine batches for."""
    spec = job.recipe.backend
    assert isinstance(spec, OpenAISpec), "batch_api is a field of the openai kind only"
    return spec


def batch_pricing(job: BatchedRun) -> Pricing:
    return job.client.accounting.pricing.scaled(batch_spec(job).batch_discount)


def _within_budget(accounting: Accounting, missing: dict[str, ChatRequest], pricing: Pricing) -> dict[str, ChatRequest]:
    """The requests whose most possible cost at the batch price fits the job's budget."""
    chosen: dict[str, ChatRequest] = {}
    held: list[tuple[float, int]] = []
    try:
        for key, request in missing.items():
            held.append(accounting.reserve(request, pricing))
            chosen[key] = request
    except BudgetExceededError:
        pass
    finally:
        for reservation in held:
            accounting.release(reservation)
    return chosen


async def _submit(api: BatchService, job: BatchedRun, journal: Journal, missing: dict[str, ChatRequest]) -> list[str]:
    """Upload the requests and create their batches (several if the provider's file limits
    ask for it), each step journalled before the next."""
    chosen = _within_budget(job.client.accounting, missing, batch_pricing(job))
    if not chosen:
        job.stop = "budget_stopped"
        job.error = (
            "the job's budget cannot pay for one more request at the batch price "
            f"(spent ${job.client.accounting.cost:.4f}); raise --max-cost and resume the job"
        )
        return []
    backend = _backend(job)
    number = journal.rounds + 1
    ids = []
    for lines in api.chunks([backend.batch_line(key, request) for key, request in chosen.items()]):
        file_id = await api.upload(lines)
        await journal.write("batch_file", file_id=file_id, lines=len(lines), round=number)
        metadata = {"sentiforge_job": str(job.job.id), "step": str(journal.scope["step"]), "round": str(number)}
        batch = await api.create(file_id, metadata)
        await journal.write("batch_created", batch_id=batch["id"], file_id=file_id, lines=len(lines), round=number)
        log.info("job %s step %s: batch %s of %d requests", job.job.id, journal.scope["step"], batch["id"], len(lines))
        ids.append(str(batch["id"]))
    return ids


async def _collect(
    api: BatchService, job: BatchedRun, journal: Journal, batch: dict[str, Any], missing: dict[str, ChatRequest]
) -> None:
    """Put a finished batch's answers into the cache, commit them, and journal what came back."""
    outcomes, problems = await api.outcomes(batch)
    if batch.get("status") == "failed":
        problems.append(f"batch {batch.get('id')} failed: {(batch.get('errors') or {}).get('data')}")
    answered, errors = 0, []
    for line in outcomes:
        if job.client.cache.get(line.custom_id) is not None:
            continue  # collected before a restart (or a repeated line): already paid and counted
        request = missing.get(line.custom_id)
        if request is None:
            problems.append(f"batch {batch.get('id')}: unknown custom_id {line.custom_id[:80]!r} (no such request)")
        elif line.error is not None:
            errors.append(f"{line.custom_id[:12]}: {line.error}")
        else:
            problem = _store_answer(job, request, line)
            answered += problem is None
            problems += [problem] if problem else []
    await job.checkpoint()
    for problem in problems:
        log.warning("job %s: %s", job.job.id, problem)
    await journal.write(
        "batch_collected",
        batch_id=batch.get("id"),
        file_id=batch.get("input_file_id"),
        status=batch.get("status"),
        answered=answered,
        failed=len(errors),
        errors=errors[:MAX_REPORTED],
        problems=problems[:MAX_REPORTED],
    )


def _store_answer(job: BatchedRun, request: ChatRequest, line: Any) -> str | None:
    """Account and cache one answer; a message instead when the line holds none."""
    backend = _backend(job)
    try:
        completion = backend.batch_completion(line.body, request)
    except TransientBackendError as exc:
        return f"the batch answer for {line.custom_id[:12]} came {exc}: {str(line.body)[:120]!r}"
    job.client.accounting.record(completion.usage, batch_pricing(job))  # the provider billed it
    try:
        completion = backend.batch_answer(completion, request)
    except InvalidOutputError as exc:
        return f"the batch answer for {line.custom_id[:12]} is unusable: {exc}"
    job.client.cache.put(line.custom_id, completion)
    return None


async def _give_up(job: BatchedRun, journal: Journal, unanswered: int) -> None:
    spec = batch_spec(job)
    step = journal.scope["step"]
    if spec.batch_fallback == "stop":
        job.stop = "incomplete"
        job.error = (
            f"{unanswered} requests of step {step} are still unanswered after {journal.rounds} provider batches "
            "(see the job's batch_collected events); resume the job to batch them again, or set "
            "backend.batch_fallback to live"
        )
    else:
        log.warning("job %s step %s: %d requests left after %d batches go live, at the full price",
                    job.job.id, step, unanswered, journal.rounds)  # fmt: skip
    await journal.write("batch_fallback", requests=unanswered, fallback=spec.batch_fallback)
