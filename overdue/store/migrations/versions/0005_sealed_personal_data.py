"""sealed personal data

National ID, card and bank account numbers: each a Fernet token (sealed with OVERDUE_DATA_KEYS) and its
last 4 characters in clear, which is all a screen shows until someone reveals the value with a reason.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ("customer", "national_id"),
    ("account", "card_number"),
    ("account", "bank_account"),
)


def upgrade() -> None:
    # Plain ADD COLUMN of nullable columns: no batch rebuild on SQLite, no table rewrite on PostgreSQL.
    for table, name in COLUMNS:
        op.add_column(table, sa.Column(f"{name}_sealed", sa.Text(), nullable=True))
        op.add_column(table, sa.Column(f"{name}_last4", sa.String(length=4), nullable=True))


def downgrade() -> None:
    for table, name in reversed(COLUMNS):
        op.drop_column(table, f"{name}_last4")
        op.drop_column(table, f"{name}_sealed")
