"""Samples are paged by (dataset, status, id): the index on (dataset_id, status) gains id, so
a keyset page is an index range read in order, never a sort of every matching row (on
PostgreSQL right after a large job, before autovacuum analysed it, the planner chose that
sort: 683 ms a page of a million-row dataset; benchmarks/memory/README.md).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_samples_dataset_status_id", "samples", ["dataset_id", "status", "id"])
    op.drop_index("ix_samples_dataset_status", table_name="samples")


def downgrade() -> None:
    op.create_index("ix_samples_dataset_status", "samples", ["dataset_id", "status"])
    op.drop_index("ix_samples_dataset_status_id", table_name="samples")
