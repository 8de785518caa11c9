"""Generation and augmentation strategies, one module each, registered by name."""

from sentiforge.strategies import (  # noqa: F401
    ada,
    backtranslate,
    cada,
    cda,
    evolve,
    extract_aspects,
    generate,
    grounded,
)
from sentiforge.strategies.base import REGISTRY, StepContext, Strategy, Task, build_strategy

__all__ = ["REGISTRY", "StepContext", "Strategy", "Task", "build_strategy"]
