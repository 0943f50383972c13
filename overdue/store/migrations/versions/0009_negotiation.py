"""negotiation: offers of every kind with their schedule and treatment of interest and fees, plans and
promises with theirs, and customers' affordability statements

Existing offers keep their terms (an empty schedule is rebuilt from installments and first due date when
accepted); existing plans are installment plans on which interest and fees accrue, as before.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import overdue.store.tables

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OFFER_COLUMNS = (
    ("balance_minor", sa.BigInteger(), "0"),
    ("discount_minor", sa.BigInteger(), "0"),
    ("schedule", sa.JSON(), "[]"),
    ("interest", sa.String(length=16), "accrues"),
    ("fees", sa.String(length=16), "accrues"),
    ("on_kept", sa.String(length=16), "cure"),
    ("outside_bounds", sa.JSON(), "[]"),
    ("approvals_needed", sa.Integer(), "0"),
    ("requested_by", sa.String(length=64), "system:cycle"),
)
PLAN_COLUMNS = (
    ("kind", sa.String(length=32), "installment"),
    ("interest", sa.String(length=16), "accrues"),
    ("fees", sa.String(length=16), "accrues"),
    ("on_kept", sa.String(length=16), "cure"),
    ("discount_minor", sa.BigInteger(), "0"),
)


def _add(table: str, columns: tuple[tuple[str, sa.types.TypeEngine[object], str], ...]) -> None:
    """Non-null columns get a server default for the rows already there, dropped again afterwards so the
    schema matches the models (which set their defaults in Python)."""
    with op.batch_alter_table(table) as batch_op:
        for name, type_, default in columns:
            batch_op.add_column(sa.Column(name, type_, nullable=False, server_default=default))
    with op.batch_alter_table(table) as batch_op:
        for name, _, _ in columns:
            batch_op.alter_column(name, server_default=None)


def upgrade() -> None:
    _add("offer", OFFER_COLUMNS)
    with op.batch_alter_table("offer") as batch_op:
        batch_op.add_column(sa.Column("approved_by", sa.String(length=140), nullable=True))
        batch_op.add_column(sa.Column("recording_ref", sa.String(length=200), nullable=True))
    _add("paymentplan", PLAN_COLUMNS)
    with op.batch_alter_table("paymentplan") as batch_op:
        batch_op.add_column(sa.Column("created_by", sa.String(length=64), nullable=True))
    op.create_table(
        "affordabilitystatement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("statement_ref", sa.String(length=128), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("income_minor", sa.BigInteger(), nullable=False),
        sa.Column("expenses_minor", sa.BigInteger(), nullable=False),
        sa.Column("dependants", sa.Integer(), nullable=False),
        sa.Column("capacity_minor", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("hardship_hold_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", overdue.store.tables.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"]),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"]),
        sa.ForeignKeyConstraint(["hardship_hold_id"], ["hold.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("statement_ref"),
    )
    op.create_index(
        "ix_affordability_customer_recorded", "affordabilitystatement", ["customer_id", "recorded_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_affordability_customer_recorded", table_name="affordabilitystatement")
    op.drop_table("affordabilitystatement")
    with op.batch_alter_table("paymentplan") as batch_op:
        for name in [c[0] for c in PLAN_COLUMNS] + ["created_by"]:
            batch_op.drop_column(name)
    with op.batch_alter_table("offer") as batch_op:
        for name in [c[0] for c in OFFER_COLUMNS] + ["approved_by", "recording_ref"]:
            batch_op.drop_column(name)
