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
    with op.batch_alter_table("customer") as batch:
        batch.add_column(sa.Column("vulnerability_reviewed_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("workplace_contact_ok", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("contactpoint") as batch:
        batch.add_column(sa.Column("is_workplace", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("outreachmessage") as batch:
        batch.add_column(sa.Column("purpose", sa.String(length=32), nullable=False, server_default="collection"))
        batch.create_index("ix_outreach_customer_sent_at", ["customer_id", "sent_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outreachmessage") as batch:
        batch.drop_index("ix_outreach_customer_sent_at")
        batch.drop_column("purpose")
    with op.batch_alter_table("contactpoint") as batch:
        batch.drop_column("is_workplace")
    with op.batch_alter_table("customer") as batch:
        batch.drop_column("workplace_contact_ok")
        batch.drop_column("vulnerability_reviewed_on")
