"""One step of a job while it runs: its strategy and context, and the counts the engine's
workers share (accepted, in flight, given up), the slots to refill and each quota cell's
attempt budget. The engine (engine/run.py) drives it; provider batches (engine/batching.py)
read its plan before it runs.
"""

from __future__ import annotations

import asyncio
import collections

from sentiforge.engine.attempt_budget import CellBudget
from sentiforge.strategies.base import StepContext, Strategy


class StepRun:
    """Mutable state of one step while it runs."""

    def __init__(self, strategy: Strategy, ctx: StepContext, accepted: int) -> None:
        self.strategy = strategy
        self.ctx = ctx
        self.size = strategy.size(ctx)
        self.accepted = accepted
        self.inflight = 0
        self.changed = asyncio.Condition()
        # original slots whose attempts all failed: a refill takes over their target and
        # attribute cell (or, once the cell is given up, another cell of the same label), so
        # class quotas stay exact while any cell of the label works
        self.short: collections.deque[int] = collections.deque()
        self.budget = CellBudget()
        self.given_up = 0  # slots left unfilled: no live cell of their label
        self.reasons: dict[str, str | None] = {}  # a failed slot's last reject reason, by attempt key
