"""facts the contact guard needs

Workplace contact points and the customer's say-so, the date a vulnerable customer's case was
reviewed, each message's purpose, and an index to read a customer's recent contacts quickly.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN, no batch rebuild: nothing is copied and the audit table's triggers are untouched.
    op.add_column("customer", sa.Column("vulnerability_reviewed_on", sa.Date(), nullable=True))
    op.add_column("customer", sa.Column("workplace_contact_ok", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("contactpoint", sa.Column("is_workplace", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column(
        "outreachmessage", sa.Column("purpose", sa.String(length=32), nullable=False, server_default="collection")
    )
    op.create_index("ix_outreach_customer_sent_at", "outreachmessage", ["customer_id", "sent_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_outreach_customer_sent_at", table_name="outreachmessage")
    op.drop_column("outreachmessage", "purpose")
    op.drop_column("contactpoint", "is_workplace")
    op.drop_column("customer", "workplace_contact_ok")
    op.drop_column("customer", "vulnerability_reviewed_on")
