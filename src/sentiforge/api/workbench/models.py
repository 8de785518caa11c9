"""Workbench pages of models: the saved classifiers, and one model's metrics, training data,
input drift and a box to try a text (label, scores, and the rationale of a reasoner)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse

from sentiforge.api.deps import RegistryDep
from sentiforge.api.schemas import MAX_TEXT_CHARS
from sentiforge.api.workbench.auth import ViewerDep, check_csrf
from sentiforge.api.workbench.render import PageRoute, render
from sentiforge.app.predict import ModelRegistry, Prediction
from sentiforge.errors import NotFoundError

router = APIRouter(route_class=PageRoute, include_in_schema=False)
ModelId = Annotated[str, Path(min_length=1, max_length=200)]


def flat(values: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Nested metrics as (dotted name, value) rows, for a table; a list as JSON."""
    rows: list[tuple[str, Any]] = []
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            rows.extend(flat(value, f"{name}."))
        else:
            rows.append((name, json.dumps(value) if isinstance(value, list | tuple) else value))
    return rows


@router.get("/models", response_class=HTMLResponse)
def models_page(request: Request, registry: RegistryDep, viewer: ViewerDep) -> HTMLResponse:
    viewer.need("predict", "read")
    return render(request, "models.html", active="models", models=registry.models())


def _model_page(
    request: Request, registry: ModelRegistry, model_id: str, text: str = "", answer: Prediction | None = None
) -> HTMLResponse:
    found = next((m for m in registry.models() if m.id == model_id), None)
    if found is None:
        raise NotFoundError(f"no model named '{model_id}'; the models page lists them")
    return render(
        request,
        "model.html",
        active="models",
        model=found,
        metrics=flat(found.metrics),
        training=flat(found.training_data),
        drift=registry.drift(model_id),
        text=text,
        answer=answer,
        max_chars=MAX_TEXT_CHARS,
    )


@router.get("/models/{model_id}", response_class=HTMLResponse)
def model_page(request: Request, model_id: ModelId, registry: RegistryDep, viewer: ViewerDep) -> HTMLResponse:
    viewer.need("predict", "read")
    return _model_page(request, registry, model_id)


@router.post("/models/{model_id}/try", response_class=HTMLResponse)
def try_text(
    request: Request,
    model_id: ModelId,
    registry: RegistryDep,
    viewer: ViewerDep,
    text: Annotated[str, Form(min_length=1, max_length=MAX_TEXT_CHARS)],
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> HTMLResponse:
    """The model's answer for one text, shown under the box (the API's predict scope)."""
    check_csrf(request, viewer, csrf)
    viewer.need("predict")
    _, answers = registry.predict([text], model_id)
    return _model_page(request, registry, model_id, text, answers[0])
