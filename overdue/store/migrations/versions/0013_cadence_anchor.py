"""cadence re-anchor

A partial payment that moves an account to another stage restarts that stage's cadence on the payment
date (overdue/services/reanchor.py): the date is kept on the account, so the next cycles count the new
stage's steps from it instead of from an anchor whose steps have all passed.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("account", sa.Column("anchor_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("account") as batch:
        batch.drop_column("anchor_on")
