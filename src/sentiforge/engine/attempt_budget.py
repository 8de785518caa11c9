"""Bounded attempts per quota cell: a job never spins on a cell its model cannot fill.

A *cell* is where a slot sits in a step's quota plan: its target label and its attribute
values (``neutral`` x ``telecom / small-business owner / urgency high / medium``). A slot has
``max_attempts`` attempts; when they all fail, a refill slot takes over the same cell, so
class quotas stay exact. Before this budget, a cell whose label the judge never confirmed
was refilled until a global limit of several times the job's size: one neutral cell of the
main job took 15 requests a slot and the job ran open-ended.

Now a cell may fail ``max_failed_slots`` slots, plus ``failures_per_success`` for each slot it
filled (a cell that works one time in three is slow, not hopeless). After that it is given
up: its quota moves to
a live cell of the same label (the move is recorded and said in the job's log), and when no
cell of that label is left the slot stays unfilled and the job ends ``incomplete``, its
unfilled slots listed by cell and last reason (:meth:`CellBudget.report`).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

from sentiforge.strategies.base import StepContext, Strategy, Task

SCAN_LIMIT = 2000  # plan indices looked through for a live cell of the same label


def cell_of(task: Task) -> str:
    """A task's cell, as a stable string: its target and its attribute values."""
    return json.dumps([task.target, sorted(task.attributes.items())], ensure_ascii=False, default=str)


def describe_cell(cell: str) -> str:
    target, attributes = json.loads(cell)
    values = ", ".join(f"{k}={v}" for k, v in attributes)
    return f"{target}" + (f" / {values}" if values else "")


@dataclass
class CellBudget:
    """Failed slots per cell, the cells given up, where their quota went, what stayed unfilled."""

    max_failed_slots: int = 2
    failures_per_success: int = 3
    failures: Counter[str] = field(default_factory=Counter)
    successes: Counter[str] = field(default_factory=Counter)
    reasons: dict[str, Counter[str]] = field(default_factory=dict)
    moved: list[dict[str, Any]] = field(default_factory=list)
    unfilled: Counter[str] = field(default_factory=Counter)

    def failed(self, task: Task, reason: str | None) -> None:
        """A slot of ``task``'s cell used all its attempts."""
        cell = cell_of(task)
        self.failures[cell] += 1
        short = (reason or "no answer").split(" (", 1)[0][:120]
        self.reasons.setdefault(cell, Counter())[short] += 1

    def filled(self, task: Task) -> None:
        self.successes[cell_of(task)] += 1

    def live(self, cell: str) -> bool:
        return self.failures[cell] < self.max_failed_slots + self.failures_per_success * self.successes[cell]

    def next_for(self, origin: Task, strategy: Strategy, ctx: StepContext, plan_size: int) -> Task | None:
        """The task that takes over ``origin``'s failed slot: its own cell while that lives,
        else a live cell of the same label (recorded in ``moved``), else None (unfilled)."""
        cell = cell_of(origin)
        if self.live(cell):
            return origin
        for j in range(min(plan_size, SCAN_LIMIT)):
            candidate = strategy.task(j, ctx)
            other = cell_of(candidate)
            if candidate.target == origin.target and other != cell and self.live(other):
                self.moved.append({"from": describe_cell(cell), "to": describe_cell(other)})
                return replace(origin, attributes=candidate.attributes, extra=candidate.extra)
        self.unfilled[cell] += 1
        return None

    def report(self) -> str | None:
        """The unfilled slots by cell and reason, for the job's error; None when all were filled."""
        if not self.unfilled:
            return None
        parts = []
        for cell, n in self.unfilled.most_common():
            why = ", ".join(f"{r} x{k}" for r, k in self.reasons.get(cell, Counter()).most_common(3))
            parts.append(f"{n} x {describe_cell(cell)} ({why})")
        total = sum(self.unfilled.values())
        return (
            f"{total} slot(s) left unfilled: every cell of their label failed {self.max_failed_slots} slots "
            f"of attempts (+{self.failures_per_success} a slot filled): " + "; ".join(parts)
        )


__all__ = ["CellBudget", "cell_of", "describe_cell"]
