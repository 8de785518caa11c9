"""Quality, evaluate and train as jobs: one application-layer call each, run like any job.

A generation job is the engine's (slots, resume to the exact count); these three are one call
(:func:`sentiforge.app.quality_gate.run_quality`, :func:`sentiforge.app.training.evaluate`,
:func:`sentiforge.app.training.train`) on a request stored with the job. They are claimed and
kept alive in the store the same way, so a job list, a cancel or a restart treats every kind
alike. A cancel stops a quality run between batches and an evaluation between stages; a
training that has started runs to its end. Resuming one runs the call again.

Over HTTP a request first goes through :func:`sentiforge.app.confinement.for_service`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sentiforge.app.confinement import BUILTIN, in_store
from sentiforge.app.requests import BuildRequest, EvaluateRequest, QualityRequest, TrainRequest, kind_of
from sentiforge.config import DEFAULT_RUNTIME, Runtime
from sentiforge.engine.claim import claim_job
from sentiforge.errors import SentiforgeError
from sentiforge.progress import Update

if TYPE_CHECKING:
    from sentiforge.progress import OnProgress
    from sentiforge.store import Store

TaskRequest = QualityRequest | EvaluateRequest | TrainRequest | BuildRequest
KINDS: dict[str, type[TaskRequest]] = {
    "quality": QualityRequest,
    "evaluate": EvaluateRequest,
    "train": TrainRequest,
    "build": BuildRequest,
}
PER_MILLE = 1000  # a build's progress: thousandths of its estimated work


class Cancelled(SentiforgeError):
    """Raised inside a task at a checkpoint after a cancel was asked."""


def submit(store: Store, request: TaskRequest) -> int:
    """Create a queued quality, evaluate or train job for the request; returns its id."""
    kind = kind_of(request)
    dataset = _dataset_name(request)
    dataset_id = store.dataset_id(dataset) if not dataset.startswith(BUILTIN) and in_store(store, dataset) else None
    target = store.count(dataset_id, status=None) if kind == "quality" and dataset_id else 1
    target = PER_MILLE if kind == "build" else target
    return store.create_job(dataset_id, {}, target, kind=kind, request=request.model_dump(mode="json"))


def _dataset_name(request: TaskRequest) -> str:
    if isinstance(request, BuildRequest):
        return request.seeds
    return request.synthetic if isinstance(request, EvaluateRequest) else request.dataset


async def run_task(
    store: Store, job_id: int, *, progress: OnProgress | None = None, runtime: Runtime = DEFAULT_RUNTIME
) -> str:
    """Claim a quality, evaluate or train job, run its call in a thread, record how it ended.
    The claim is kept alive meanwhile; a cancel (or a lost claim) sets ``stop``, which the
    call's checkpoints read."""
    job, claim = await claim_job(store, job_id)
    request = KINDS[job.kind].model_validate(job.request or {})
    stop = asyncio.Event()
    status, error, result = "completed", None, None
    try:
        async with claim.kept(lambda _beat: stop.set()):
            result = await asyncio.to_thread(_call, store, job_id, request, stop, progress, runtime)
    except Cancelled:
        status = "cancelled"
    except SentiforgeError as exc:
        status, error = "failed", str(exc)
    except Exception as exc:  # a bug, or a library's own error: the job fails with it, the caller goes on
        status, error = "failed", f"{type(exc).__name__}: {exc}"
    except BaseException:
        store.update_job(job_id, status="incomplete", error="interrupted; resume the job to run it again")
        raise
    done = job.target if status == "completed" else store.job(job_id).done
    store.update_job(job_id, status=status, error=error, result=result, done=done, cancel_requested=False)
    store.add_job_event(job_id, "finished", status=status, error=error)
    return status


def _call(
    store: Store,
    job_id: int,
    request: TaskRequest,
    stop: asyncio.Event,
    progress: OnProgress | None,
    runtime: Runtime,
) -> dict[str, Any]:
    """The application-layer call for the request (in a worker thread); its answer as JSON."""
    from sentiforge.app import quality_gate, training

    def checkpoint(done: int, target: int) -> None:
        if stop.is_set():
            raise Cancelled("cancelled")
        store.update_job(job_id, done=done)
        if progress:
            progress(Update(done=done, total=target))

    if isinstance(request, QualityRequest):
        target = store.job(job_id).target
        summary = quality_gate.run_quality(
            store, request, runtime=runtime, progress=lambda update: checkpoint(update.done, target)
        )
        return {
            "run_id": summary.run_id,
            "examined": summary.examined,
            "counts": summary.counts,
            "leaks": summary.leaks,
        }
    if isinstance(request, EvaluateRequest):
        stages: list[str] = []

        def stage(update: Update) -> None:
            stages.append(update.stage)
            store.add_job_event(job_id, "stage", message=update.stage)
            if stop.is_set():
                raise Cancelled("cancelled")

        ev = training.evaluate(request, db=store.url, runtime=runtime, progress=stage)
        paths = ev.write(request.out_dir)
        return {"report_dir": request.out_dir, "files": {k: Path(v).name for k, v in paths.items()}, **_scores(ev)}
    if isinstance(request, BuildRequest):
        return _build(store, job_id, request, checkpoint, runtime)
    trained = training.train(request, db=store.url, runtime=runtime)
    return {
        "model": trained.folder.name,
        "folder": str(trained.folder),
        "trained_on": trained.trained_on,
        "metrics": trained.metrics,
    }


def _build(store: Store, job_id: int, request: BuildRequest, checkpoint: Any, runtime: Runtime) -> dict[str, Any]:
    """A build, its progress in thousandths of the estimated work, and each candidate it starts
    as a ``stage`` event with the ETA (seconds, from the pace so far), as the CLI's bar shows."""
    import time

    from sentiforge.app.build import build
    from sentiforge.evaluation.report import json_safe

    started, last = time.perf_counter(), [""]

    def progress(update: Update) -> None:
        if update.stage != last[0]:
            last[0] = update.stage
            done, total = update.done, update.total
            eta = round((time.perf_counter() - started) * (total - done) / done) if done else None
            store.add_job_event(job_id, "stage", message=update.stage, done=done, total=total, eta_s=eta)
        checkpoint(min(PER_MILLE - 1, PER_MILLE * update.done // max(update.total, 1)), PER_MILLE)

    built = build(request, db=store.url, runtime=runtime, progress=progress)
    return {"model": built.folder.name, **json_safe(built.to_dict())}


def _scores(ev: Any) -> dict[str, Any]:
    from sentiforge.evaluation.report import json_safe

    summary = {
        kind: {"ratio": r.ratio, "metric": r.metric, **{k: v.scores.get("macro_f1") for k, v in r.settings.items()}}
        for kind, r in ev.tstr.items()
    }
    return {"headline": ev.headline(), "tstr": json_safe(summary)}
