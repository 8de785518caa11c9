"""A recipe as a plan: the strategy of each step, the real examples and prompts it draws on,
and how many slots each step holds.

:func:`step_strategy` is the one place a recipe step becomes a strategy (the registry by name,
:func:`sentiforge.strategies.base.build_strategy`, with the step's options): the engine runs
it, a new job is sized and checked with it (:func:`step_sizes`), shards are cut by it and the
provider batches' dry run replays it.
"""

from __future__ import annotations

import itertools
import warnings
from typing import TYPE_CHECKING, Any

from sentiforge.prompts import PromptLibrary
from sentiforge.recipe import Recipe, StepSpec
from sentiforge.strategies.base import StepContext, Strategy, build_strategy

if TYPE_CHECKING:
    from sentiforge.samples import Sample
    from sentiforge.store import Store

POOL_LIMIT = 5000  # real examples loaded for few-shot / augmentation per job


class UnusedAttributeWarning(UserWarning):
    """A prompt attribute that no template reads (often a misspelt name)."""


def step_strategy(spec: StepSpec) -> Strategy:
    """A fresh strategy for a recipe step (ConfigError for an unknown name or bad options)."""
    return build_strategy(spec.strategy, spec.params)


def seed_pool(store: Store, recipe: Recipe) -> list[Sample]:
    """The real examples a job draws on: few-shot examples and augmentation seeds."""
    if not recipe.seeds:
        return []
    dataset_id = store.dataset_id(recipe.seeds)
    return list(itertools.islice(store.iter_samples(dataset_id, split=recipe.seed_split), POOL_LIMIT))


def prompt_library(recipe: Recipe) -> PromptLibrary:
    """The prompts a recipe names: its templates folder first, then the packaged ones."""
    return PromptLibrary(recipe.templates)


def step_sizes(store: Store, recipe: Recipe, *, warn: bool = False) -> list[int]:
    """How many slots each step of a recipe plans. With ``warn``, prompt attributes that no
    template reads are warned about (:class:`UnusedAttributeWarning`), as a new job is."""
    pool = seed_pool(store, recipe)
    ctx = StepContext(client=None, scheme=recipe.label_scheme(), prompts=prompt_library(recipe), pool=pool)  # type: ignore[arg-type]
    sizes = []
    for i, spec in enumerate(recipe.steps):
        strategy = step_strategy(spec)
        ctx.step = i
        sizes.append(strategy.size(ctx))
        check = getattr(strategy, "attribute_warnings", None)
        for message in check(ctx) if check and warn else []:
            warnings.warn(message, UnusedAttributeWarning, stacklevel=3)
    return sizes


def judges_labels(recipe: dict[str, Any]) -> bool:
    """Whether a step of a stored recipe has the judge read each sample's label or polarity (the
    strategies' own defaults count: ``check_label: auto`` judges with the embedded model)."""
    embedded = (recipe.get("backend") or {}).get("kind") == "embedded"
    for spec in recipe.get("steps", []):
        step = StepSpec(strategy=spec.get("strategy", "generate"), params=spec.get("params") or {})
        options = getattr(step_strategy(step), "options", None)
        label = getattr(options, "check_label", None)
        if getattr(options, "check_polarity", None) == "judge" or label == "judge" or (label == "auto" and embedded):
            return True
    return False
