"""``POST /v1/jobs/build``: the best model for labelled seeds, as a job (progress and events as any
job's, under /v1/jobs/{id}); the built model is served by /v1/sentiment under its name."""

from __future__ import annotations

from fastapi import APIRouter

from sentiforge.api.deps import RunnerDep, SettingsDep, StoreDep, WriteKey
from sentiforge.api.errors import ERRORS
from sentiforge.api.routes.jobs import _submit
from sentiforge.app.requests import BuildRequest
from sentiforge.store.schemas import JobPublic

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], responses=ERRORS)


@router.post("/build", status_code=202)
def build(body: BuildRequest, store: StoreDep, runner: RunnerDep, settings: SettingsDep, _: WriteKey) -> JobPublic:
    """Build a classifier from labelled seeds (a stored dataset or a built-in set), an optional
    pool and synthetic datasets, chosen by cross-validation on the seeds; ``out_dir`` is the
    model's name. The job's result holds every candidate's score and each source's contribution."""
    return _submit(store, runner, settings, body)
