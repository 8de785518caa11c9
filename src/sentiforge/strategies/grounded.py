"""Grounded generation: label-conditioned samples shown real texts of one cluster.

The job's pool is an unlabelled dataset made by ``sentiforge data ground`` (see
:mod:`sentiforge.grounding`): every sample carries its ``cluster`` and the cluster's
``topic`` words. Slot ``i`` takes cluster ``i`` round-robin (so clusters share the quota
evenly) and the label from the quota as :class:`Generate` does; its prompt shows a few texts
of the cluster for topic and style, and names the topic. Provenance keeps the cluster and
the ids of the texts shown. Everything else (copies of the pool, labels that hold, style
matching on the pool, length checks) is :class:`Generate`'s.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

from pydantic import Field

from sentiforge.errors import ConfigError
from sentiforge.samples import Sample
from sentiforge.strategies.base import StepContext, Task, register
from sentiforge.strategies.generate import Generate, GenerateOptions


class GroundedOptions(GenerateOptions):
    few_shot: int = Field(default=3, ge=1, le=6)  # texts of the cluster shown per prompt


def clusters(pool: Any) -> dict[int, list[int]]:
    """Positions of the pool's samples by cluster (those without one are left out)."""
    out: dict[int, list[int]] = {}
    for i, sample in enumerate(pool):
        cluster = sample.attributes.get("cluster")
        if isinstance(cluster, int):
            out.setdefault(cluster, []).append(i)
    return dict(sorted(out.items()))


@register("grounded")
class Grounded(Generate):
    name: ClassVar[str] = "grounded"
    Options = GroundedOptions

    def __init__(self, options: GroundedOptions) -> None:
        super().__init__(options)
        self._clusters: dict[int, dict[int, list[int]]] = {}

    def members(self, ctx: StepContext) -> dict[int, list[int]]:
        key = id(ctx.pool)
        if key not in self._clusters:
            found = clusters(ctx.pool)
            if not found:
                raise ConfigError(
                    "grounded generation needs a pool of clustered texts: run `sentiforge data ground FILE -d POOL` "
                    "and pass --pool POOL"
                )
            self._clusters[key] = found
        return self._clusters[key]

    def size(self, ctx: StepContext) -> int:
        self.members(ctx)
        return super().size(ctx)

    def task(self, index: int, ctx: StepContext) -> Task:
        task = super().task(index, ctx)
        by_cluster = self.members(ctx)
        cluster = list(by_cluster)[index // len(self.targets(ctx.scheme)) % len(by_cluster)]
        topic = ctx.pool[by_cluster[cluster][0]].attributes.get("topic")
        attributes = {**task.attributes, **({"topic": topic} if topic else {})}
        return replace(task, attributes=attributes, extra={**task.extra, "cluster": cluster})

    def examples(self, task: Task, attempt: int, ctx: StepContext) -> list[dict[str, str]]:
        members = self.members(ctx).get(task.extra.get("cluster", -1), [])
        chosen = task.rng(attempt + 1000).sample(members, min(self.options.few_shot, len(members)))
        return [{"label": "", "text": ctx.pool[i].text, "id": str(ctx.pool[i].id)} for i in chosen]

    async def _run(self, task: Task, attempt: int, ctx: StepContext) -> Sample:
        sample = await super()._run(task, attempt, ctx)
        shown = [e["id"] for e in self.examples(task, attempt, ctx)]
        params = {**sample.provenance.params, "cluster": task.extra.get("cluster"), "sources": shown}
        return sample.model_copy(update={"provenance": sample.provenance.model_copy(update={"params": params})})
