"""The workbench: server-rendered pages over the application layer (datasets, jobs,
evaluations, models, quality over time) and the review and label queues (``queues.py``), behind
a login (``auth.py``). Templates and static files live in ``sentiforge/web``."""

from __future__ import annotations

from fastapi import APIRouter

from sentiforge.api.workbench import auth, datasets, evaluations, jobs, models, quality, queues

ROUTERS: list[APIRouter] = [
    auth.router,
    datasets.router,
    jobs.router,
    evaluations.router,
    models.router,
    quality.router,
    queues.router,
]
