"""Job statuses renamed: pending -> queued, budget_exhausted -> budget_stopped.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RENAMES = {"pending": "queued", "budget_exhausted": "budget_stopped"}


def _rename(mapping: dict[str, str]) -> None:
    jobs = sa.table("jobs", sa.column("status", sa.String))
    for old, new in mapping.items():
        op.execute(jobs.update().where(jobs.c.status == old).values(status=new))


def upgrade() -> None:
    _rename(RENAMES)


def downgrade() -> None:
    _rename({new: old for old, new in RENAMES.items()})
