"""provider events: delivery reports, webhook receipts, inbound messages and evidence

Contact points are found by address (a reply, a bounce names only that). Delivery reports are kept beside the message (the send itself stays `sent`: an attempt is an attempt, whatever
became of it); every webhook event is recorded once so a duplicate changes nothing; customers' texts and
emails are kept as received, their attachments sealed.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import overdue.store.tables

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_contactpoint_channel_address", "contactpoint", ["channel", "address"])
    op.add_column("outreachmessage", sa.Column("delivery", sa.String(length=16), nullable=True))
    op.add_column("outreachmessage", sa.Column("delivery_at", overdue.store.tables.UTCDateTime(), nullable=True))
    op.create_index("ix_outreach_provider_id", "outreachmessage", ["provider_id"])
    op.create_table(
        "webhookreceipt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("received_at", overdue.store.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("provider", "event_id"),
    )
    op.create_table(
        "inboundmessage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("provider_id", sa.String(length=200), nullable=False),
        sa.Column("from_address", sa.String(length=320), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("intent", sa.String(length=32), nullable=False),
        sa.Column("promised_on", sa.Date(), nullable=True),
        sa.Column("received_at", overdue.store.tables.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"]),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("provider", "provider_id"),
    )
    op.create_index("ix_inboundmessage_account_received", "inboundmessage", ["account_id", "received_at"])
    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inbound_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content_sealed", sa.Text(), nullable=False),
        sa.Column("received_at", overdue.store.tables.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"]),
        sa.ForeignKeyConstraint(["inbound_id"], ["inboundmessage.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_evidence_inbound_id", "evidence", ["inbound_id"])
    op.create_index("ix_evidence_account_id", "evidence", ["account_id"])


def downgrade() -> None:
    op.drop_index("ix_evidence_account_id", table_name="evidence")
    op.drop_index("ix_evidence_inbound_id", table_name="evidence")
    op.drop_table("evidence")
    op.drop_index("ix_inboundmessage_account_received", table_name="inboundmessage")
    op.drop_table("inboundmessage")
    op.drop_table("webhookreceipt")
    op.drop_index("ix_outreach_provider_id", table_name="outreachmessage")
    with op.batch_alter_table("outreachmessage") as batch:
        batch.drop_column("delivery_at")
        batch.drop_column("delivery")
    op.drop_index("ix_contactpoint_channel_address", table_name="contactpoint")
