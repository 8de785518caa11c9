"""One router per resource; ``ROUTERS`` is what ``main.create_app`` includes."""

from __future__ import annotations

from fastapi import APIRouter

from sentiforge.api import workbench
from sentiforge.api.routes import (
    builds,
    datasets,
    evaluations,
    health,
    jobs,
    keys,
    label_queue,
    metrics,
    models,
    predictions,
    recipes,
    review,
    samples,
)

ROUTERS: list[APIRouter] = [
    health.router,
    jobs.router,
    builds.router,
    datasets.router,
    recipes.router,
    samples.router,
    review.router,
    label_queue.router,
    evaluations.router,
    models.router,
    predictions.router,
    keys.router,
    metrics.router,
    *workbench.ROUTERS,
]
