"""cycle shards

A business date's cycle is planned as shard rows that workers claim (row lock, SKIP LOCKED on
PostgreSQL) and mark done in the same transaction as the shard's work: several workers, one cycle, every
shard exactly once, and a crashed worker's shard simply becomes claimable again.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cycleshard",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("low", sa.Integer(), nullable=False),
        sa.Column("high", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("worker", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("as_of", "low"),
    )


def downgrade() -> None:
    op.drop_table("cycleshard")
