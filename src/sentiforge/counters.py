"""A job's counters: what it made and what it spent, written once.

:class:`Spend` is what answers cost (the client's running totals, ``backends/client.Accounting``);
:class:`Counters` adds what a job made of them. The engine's ``JobResult``, the public schemas
(``JobPublic``, ``ShardPublic``) and the tables (``store/tables.CounterColumns``) all take their
fields from here, so a new counter is added in one place (and a migration).
"""

from __future__ import annotations

from pydantic import BaseModel


class Spend(BaseModel):
    """Requests paid for, answers the cache gave, tokens in and out, and their price in dollars."""

    requests: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0


class Counters(Spend):
    """A job's (or a shard's) samples accepted and rejected, plus its spend."""

    done: int = 0
    rejected: int = 0


SPEND_FIELDS: tuple[str, ...] = tuple(Spend.model_fields)
COUNTER_FIELDS: tuple[str, ...] = tuple(Counters.model_fields)
