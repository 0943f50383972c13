"""dashboard: users and their sessions, the daily metric rollups, and the indexes the pages read through

People sign in to the dashboard with a name and a password kept as a scrypt hash; a session row per
sign-in (only a digest of its id) lets a sign-out or a disabled account end it on the server. The managers'
page reads `metricrollup`, written by the daily cycle (`dpdsnapshot` keeps yesterday's DPD bucket
for the roll rates). `webhookerror` keeps the provider callbacks we refused or failed on, for the engineers' page. The indexes:
a day's sends and payments for the rollups, an account's contact history.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import overdue.store.tables

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dashboarduser",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=False),
        sa.Column("disabled_at", overdue.store.tables.UTCDateTime(), nullable=True),
        sa.Column("created_at", overdue.store.tables.UTCDateTime(), nullable=False),
        sa.Column("password_changed_at", overdue.store.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "dashboardsession",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", overdue.store.tables.UTCDateTime(), nullable=False),
        sa.Column("expires_at", overdue.store.tables.UTCDateTime(), nullable=False),
        sa.Column("cookie_issued_at", overdue.store.tables.UTCDateTime(), nullable=True),
        sa.Column("revoked_at", overdue.store.tables.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["dashboarduser.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_digest"),
    )
    op.create_index("ix_dashboardsession_user_id", "dashboardsession", ["user_id"])
    op.create_table(
        "metricrollup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=24), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("arm", sa.String(length=32), nullable=False),
        sa.Column("key1", sa.String(length=32), nullable=False),
        sa.Column("key2", sa.String(length=32), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("metric", "as_of", "arm", "key1", "key2"),
    )
    op.create_table(
        "dpdsnapshot",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.SmallInteger(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("account_id"),
    )
    op.create_index("ix_outreach_sent_at", "outreachmessage", ["sent_at"])
    op.create_index("ix_outreach_account_created", "outreachmessage", ["account_id", "created_at"])
    op.create_index("ix_payment_received_on", "payment", ["received_on"])
    op.create_table(
        "webhookerror",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("received_at", overdue.store.tables.UTCDateTime(), nullable=False),
        sa.Column("path", sa.String(length=200), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("detail", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_webhookerror_received_at", "webhookerror", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_webhookerror_received_at", table_name="webhookerror")
    op.drop_table("webhookerror")
    op.drop_index("ix_payment_received_on", table_name="payment")
    op.drop_index("ix_outreach_account_created", table_name="outreachmessage")
    op.drop_index("ix_outreach_sent_at", table_name="outreachmessage")
    op.drop_table("dpdsnapshot")
    op.drop_table("metricrollup")
    op.drop_index("ix_dashboardsession_user_id", table_name="dashboardsession")
    op.drop_table("dashboardsession")
    op.drop_table("dashboarduser")
