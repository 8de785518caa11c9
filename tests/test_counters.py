"""The counters are written once (sentiforge/counters.py): the tables, the schemas, the client's
accounting and the engine's result all carry exactly its fields."""

from __future__ import annotations

from sentiforge.backends.base import Usage
from sentiforge.backends.client import Accounting, Pricing
from sentiforge.counters import COUNTER_FIELDS, SPEND_FIELDS
from sentiforge.engine import JobResult
from sentiforge.store.schemas import JobPublic
from sentiforge.store.shards import ShardPublic
from sentiforge.store.tables import JobRow, JobShardRow


def test_every_row_and_schema_that_keeps_counters_has_all_of_them() -> None:
    for row in (JobRow, JobShardRow):
        assert set(COUNTER_FIELDS) <= {c.name for c in row.__table__.columns}, row
    for schema in (JobPublic, ShardPublic, JobResult):
        assert set(COUNTER_FIELDS) <= set(schema.model_fields), schema
    assert set(SPEND_FIELDS) <= set(Accounting.model_fields)
    assert set(SPEND_FIELDS) < set(COUNTER_FIELDS)


def test_accounting_counts_spend_under_its_own_budget_state() -> None:
    acc = Accounting(pricing=Pricing(input_per_mtok=2.0, output_per_mtok=4.0), requests=3, cost=0.5)
    spent = acc.record(Usage(prompt_tokens=1_000_000, completion_tokens=500_000))
    assert spent == 4.0
    assert (acc.requests, acc.prompt_tokens, acc.completion_tokens, acc.cost) == (4, 1_000_000, 500_000, 4.5)
    # the reservations are private state: not a counter, not dumped
    assert set(acc.model_dump(include=set(SPEND_FIELDS))) == set(SPEND_FIELDS)
