"""Review items get leases (who may decide one now, until when), a reject reason and the bulk
they were decided in; the decision log keeps reason, note and bulk too, and is indexed by
time for the reviewers' totals of the day.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("review_items") as batch:
        batch.add_column(sa.Column("reason", sa.String(length=60), nullable=True))
        batch.add_column(sa.Column("bulk_id", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("leased_by", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("leased_until", sa.DateTime(), nullable=True))
        batch.create_index("ix_review_items_bulk_id", ["bulk_id"])
    with op.batch_alter_table("review_decisions") as batch:
        batch.add_column(sa.Column("reason", sa.String(length=60), nullable=True))
        batch.add_column(sa.Column("note", sa.Text(), nullable=True))
        batch.add_column(sa.Column("bulk_id", sa.String(length=32), nullable=True))
        batch.create_index("ix_review_decisions_dataset_created", ["dataset_id", "created_at"])


def downgrade() -> None:
    with op.batch_alter_table("review_decisions") as batch:
        batch.drop_index("ix_review_decisions_dataset_created")
        batch.drop_column("bulk_id")
        batch.drop_column("note")
        batch.drop_column("reason")
    with op.batch_alter_table("review_items") as batch:
        batch.drop_index("ix_review_items_bulk_id")
        batch.drop_column("leased_until")
        batch.drop_column("leased_by")
        batch.drop_column("bulk_id")
        batch.drop_column("reason")
