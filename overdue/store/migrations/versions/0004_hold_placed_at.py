"""when a hold was placed

A hold starts on a date, but contact earlier that same day was lawful: the compliance re-check needs
the instant the hold was placed to tell the two apart.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import overdue.store.tables

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("hold", sa.Column("placed_at", overdue.store.tables.UTCDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("hold", "placed_at")
