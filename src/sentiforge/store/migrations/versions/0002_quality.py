"""Quality gate: quality_runs, quality_records, review_items (as in store/tables.py).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "quality_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("holdout", sa.String(length=200), nullable=True),
        sa.Column("seeds", sa.String(length=200), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name="fk_quality_runs_dataset_id_datasets", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_quality_runs"),
    )
    op.create_index("ix_quality_runs_dataset_id", "quality_runs", ["dataset_id"])
    op.create_table(
        "quality_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("sample_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("rejected_by", sa.String(length=40), nullable=True),
        sa.Column("checks", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name="fk_quality_records_dataset_id_datasets", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["quality_runs.id"], name="fk_quality_records_run_id_quality_runs", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["sample_id"], ["samples.id"], name="fk_quality_records_sample_id_samples", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_quality_records"),
        sa.UniqueConstraint("run_id", "sample_id", name="uq_quality_records_run_sample"),
    )
    op.create_index("ix_quality_records_dataset_status", "quality_records", ["dataset_id", "status"])
    op.create_index("ix_quality_records_sample_id", "quality_records", ["sample_id"])
    op.create_table(
        "review_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("sample_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("queued_reason", sa.Text(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("old_label", sa.String(length=100), nullable=True),
        sa.Column("new_label", sa.String(length=100), nullable=True),
        sa.Column("old_text", sa.Text(), nullable=True),
        sa.Column("new_text", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name="fk_review_items_dataset_id_datasets", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["quality_runs.id"], name="fk_review_items_run_id_quality_runs", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["sample_id"], ["samples.id"], name="fk_review_items_sample_id_samples", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_review_items"),
        sa.UniqueConstraint("dataset_id", "sample_id", name="uq_review_items_dataset_sample"),
    )
    op.create_index("ix_review_items_dataset_status", "review_items", ["dataset_id", "status"])
    op.create_index("ix_review_items_sample_id", "review_items", ["sample_id"])


def downgrade() -> None:
    op.drop_table("review_items")
    op.drop_table("quality_records")
    op.drop_table("quality_runs")
