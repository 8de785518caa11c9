"""Quality across the jobs of one recipe (by its name or content hash), whichever datasets they filled."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from sentiforge.api.deps import ReadKey, SettingsDep, StoreDep
from sentiforge.api.errors import ERRORS
from sentiforge.api.routes.datasets import Threshold
from sentiforge.api.schemas import NamePath

router = APIRouter(prefix="/v1/recipes", tags=["datasets"], responses=ERRORS)


@router.get("/{recipe}/history")
def recipe_history(
    recipe: NamePath, store: StoreDep, settings: SettingsDep, _: ReadKey, threshold: Threshold = None
) -> list[dict[str, Any]]:
    """The summary of each finished job that ran the recipe (named, or by the hash its
    summaries show), oldest first, its change from the job before, and what moved beyond
    ``threshold`` (default SENTIFORGE_DRIFT_THRESHOLD)."""
    from sentiforge.quality.history import job_history

    return job_history(store, recipe=recipe, threshold=threshold or settings.drift_threshold)
