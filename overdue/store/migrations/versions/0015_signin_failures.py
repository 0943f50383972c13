"""sign-in throttling: failed dashboard sign-ins, kept while they can still lock a name or a client out

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import overdue.store.tables

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "signinfailure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("at", overdue.store.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_signinfailure_name_at", "signinfailure", ["name", "at"])
    op.create_index("ix_signinfailure_client_at", "signinfailure", ["client", "at"])


def downgrade() -> None:
    op.drop_index("ix_signinfailure_client_at", table_name="signinfailure")
    op.drop_index("ix_signinfailure_name_at", table_name="signinfailure")
    op.drop_table("signinfailure")
