"""The response cache records the job that paid for each answer, so a job served by answers
another job paid for (the same request: same recipe and seed, another dataset) can say so in
its summary instead of silently copying that job's texts (issue 21.7). Rows cached before this
have no payer and are not reported.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("response_cache") as batch:
        batch.add_column(sa.Column("job_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("response_cache") as batch:
        batch.drop_column("job_id")
