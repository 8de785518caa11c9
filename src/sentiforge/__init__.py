"""sentiforge: labelled sentiment training data from LLMs, proven on real data.

The package root stays light (``import sentiforge`` loads no model library); the public
names below are imported on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "Store": "sentiforge.store",
    "Recipe": "sentiforge.recipe",
    "BackendSpec": "sentiforge.recipe",
    "StepSpec": "sentiforge.recipe",
    "LabelScheme": "sentiforge.labels",
    "get_scheme": "sentiforge.labels",
    "Sample": "sentiforge.samples",
    "Engine": "sentiforge.engine",
    "run_recipe": "sentiforge.app.jobs",
    "resume_job": "sentiforge.app.jobs",
    "create_job": "sentiforge.app.jobs",
    "GenerateRequest": "sentiforge.app.requests",
    "AugmentRequest": "sentiforge.app.requests",
    "FakeBackend": "sentiforge.testing.backend",
    "from_spec": "sentiforge.backends",
}

__all__ = [*sorted(_LAZY), "__version__"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sentiforge' has no attribute {name!r}")
