"""The response cache keeps the first token's log-probabilities of a judge's answer (a JSON
object, token -> log-probability), so a cached judgement scores every label as a fresh one.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("response_cache") as batch:
        batch.add_column(sa.Column("logprobs", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("response_cache") as batch:
        batch.drop_column("logprobs")
