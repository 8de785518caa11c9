"""Text claims: an accepted text's hash per dataset, claimed by one job slot, so shards running
at once never both accept the same text; job_shards loses cancel_requested (never read: a
cancel is asked on the job's row).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "text_claims",
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("text_hash", sa.String(length=32), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("slot", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name="fk_text_claims_dataset_id_datasets", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name="fk_text_claims_job_id_jobs", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("dataset_id", "text_hash", name="pk_text_claims"),
    )
    op.create_index("ix_text_claims_job_id", "text_claims", ["job_id"])
    with op.batch_alter_table("job_shards") as batch:
        batch.drop_column("cancel_requested")


def downgrade() -> None:
    with op.batch_alter_table("job_shards") as batch:
        batch.add_column(sa.Column("cancel_requested", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.drop_index("ix_text_claims_job_id", table_name="text_claims")
    op.drop_table("text_claims")
