"""Prometheus metrics (read scope: give the scraper a read key as its bearer token)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from sentiforge.api.deps import ReadKey, RegistryDep, StoreDep
from sentiforge.api.errors import ERRORS
from sentiforge.api.metrics import render

router = APIRouter(tags=["metrics"])


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}, **ERRORS})
def metrics(store: StoreDep, registry: RegistryDep, _: ReadKey) -> Response:
    return Response(render(store, registry), media_type=CONTENT_TYPE_LATEST)
