"""Saved classifiers the service answers with (train one with POST /v1/jobs/train)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from sentiforge.api.deps import ModelsKey, RegistryDep
from sentiforge.api.errors import ERRORS
from sentiforge.api.schemas import NamePath
from sentiforge.app.predict import ModelPublic

router = APIRouter(prefix="/v1/models", tags=["models"], responses=ERRORS)


@router.get("")
def list_models(registry: RegistryDep, _: ModelsKey) -> list[ModelPublic]:
    """Every saved classifier with its scheme, training data fingerprint and metrics; ``default``
    marks the one /v1/sentiment uses when a request names none."""
    return registry.models()


@router.get("/{model_id}/drift")
def model_drift(model_id: NamePath, registry: RegistryDep, _: ModelsKey) -> dict[str, Any]:
    """Input drift of the texts this model was asked about (the answering worker's window):
    each measure's shift from the training texts, its real-vs-real baseline and limit, and
    which are flagged. A model saved without a reference answers ``reference: false``."""
    return registry.drift(model_id)


@router.get("/{model_id}/build.html", responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}})
def model_build_report(model_id: NamePath, registry: RegistryDep, _: ModelsKey) -> HTMLResponse:
    """The build report of a model made by ``sentiforge build`` (POST /v1/jobs/build): every
    candidate's cross-validated macro-F1 with its interval (a plot and a table), each source's
    contribution, what was stopped or left out, and why the winner was chosen."""
    return HTMLResponse(registry.build_report(model_id))
