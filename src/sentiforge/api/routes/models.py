"""Saved classifiers the service answers with (train one with POST /v1/jobs/train)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

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
