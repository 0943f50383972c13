"""lighter writes for the daily cycle

A million-account cycle rewrites every open account's row (its days past due, and its stage and next
action when they move) and inserts a message per contact. On PostgreSQL an UPDATE that changes no indexed
column can stay on its page without touching any index (a HOT update) if the page has room: the account
table keeps a fifth of each page free for that, and the (stage, next action) index, which only ever served a
query already narrowed to a shard's id range, is gone so that stage and next-action changes qualify too.
A queued message has no provider id and no sent time: the indexes that look messages up by those cover only
the rows that have them, so queueing writes three index entries fewer per message.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SENT = sa.text("sent_at IS NOT NULL")
HAS_PROVIDER_ID = sa.text("provider_id IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_account_stage_next_action", table_name="account")
    op.drop_index("ix_outreach_customer_sent_at", table_name="outreachmessage")
    op.drop_index("ix_outreach_provider_id", table_name="outreachmessage")
    op.drop_index("ix_outreach_sent_at", table_name="outreachmessage")
    op.create_index("ix_outreach_sent_at", "outreachmessage", ["sent_at"], postgresql_where=SENT, sqlite_where=SENT)
    op.create_index(
        "ix_outreach_customer_sent_at",
        "outreachmessage",
        ["customer_id", "sent_at"],
        postgresql_where=SENT,
        sqlite_where=SENT,
    )
    op.create_index(
        "ix_outreach_provider_id",
        "outreachmessage",
        ["provider_id"],
        postgresql_where=HAS_PROVIDER_ID,
        sqlite_where=HAS_PROVIDER_ID,
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE account SET (fillfactor = 80)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE account RESET (fillfactor)")
    op.drop_index("ix_outreach_provider_id", table_name="outreachmessage")
    op.drop_index("ix_outreach_customer_sent_at", table_name="outreachmessage")
    op.drop_index("ix_outreach_sent_at", table_name="outreachmessage")
    op.create_index("ix_outreach_sent_at", "outreachmessage", ["sent_at"])
    op.create_index("ix_outreach_provider_id", "outreachmessage", ["provider_id"])
    op.create_index("ix_outreach_customer_sent_at", "outreachmessage", ["customer_id", "sent_at"])
    op.create_index("ix_account_stage_next_action", "account", ["stage", "next_action_on"])
