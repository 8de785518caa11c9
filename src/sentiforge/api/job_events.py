"""A job's progress as numbers, and as a stream of Server-Sent Events: the API's
``/v1/jobs/{id}/stream`` and the workbench's job page send the same messages."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Request

from sentiforge.api.schemas import JobProgress
from sentiforge.store.jobs import FINISHED
from sentiforge.store.schemas import JobPublic

SSE_POLL_SECONDS = 0.5
SSE_KEEPALIVE_SECONDS = 15.0


def progress_of(job: JobPublic) -> JobProgress:
    percent = 100.0 * job.done / job.target if job.target else (100.0 if job.status == "completed" else 0.0)
    return JobProgress(
        id=job.id,
        kind=job.kind,
        status=job.status,
        done=job.done,
        target=job.target,
        rejected=job.rejected,
        percent=round(min(percent, 100.0), 1),
        cost=job.cost,
        requests=job.requests,
        cache_hits=job.cache_hits,
        prompt_tokens=job.prompt_tokens,
        completion_tokens=job.completion_tokens,
        error=job.error,
    )


async def sse_events(store: Any, job_id: int, after: int, request: Request) -> AsyncIterator[str]:
    """``progress`` when the numbers change, each job event (ids above ``after``) by its kind,
    and ``end`` once the job has finished and its task here has left."""
    last: JobProgress | None = None
    idle = 0.0
    runner = request.app.state.runner
    while not await request.is_disconnected():
        here = job_id in runner.tasks  # read first: a task writes its last event before it leaves
        job = await asyncio.to_thread(store.job, job_id)
        for event in await asyncio.to_thread(store.job_events, job_id, after=after):
            after = event.id
            yield f"id: {event.id}\nevent: {event.kind}\ndata: {event.model_dump_json()}\n\n"
        now = progress_of(job)
        if now != last:
            last, idle = now, 0.0
            yield f"event: progress\ndata: {now.model_dump_json()}\n\n"
        if job.status in FINISHED and not here:
            yield f"event: end\ndata: {json.dumps({'status': job.status})}\n\n"
            return
        await asyncio.sleep(SSE_POLL_SECONDS)
        idle += SSE_POLL_SECONDS
        if idle >= SSE_KEEPALIVE_SECONDS:
            idle = 0.0
            yield ": keep-alive\n\n"
