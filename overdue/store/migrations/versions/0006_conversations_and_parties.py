"""conversations and contact parties

Conversations about a debt are facts the contact guard needs (no call within 7 days of one in the US);
contact points say whose they are, so the cadence reaches only the debtor and a relative is contacted
only to locate an unreachable debtor (CN).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import overdue.store.tables

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("at", overdue.store.tables.UTCDateTime(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", overdue.store.tables.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_conversation_account_at", "conversation", ["account_id", "at"])
    op.add_column(
        "contactpoint", sa.Column("party", sa.String(length=16), nullable=False, server_default="debtor")
    )
    op.add_column("contactpoint", sa.Column("relation", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contactpoint") as batch:
        batch.drop_column("relation")
        batch.drop_column("party")
    op.drop_index("ix_conversation_account_at", table_name="conversation")
    op.drop_table("conversation")
