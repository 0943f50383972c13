"""payments ledger: reversals and chargebacks, credit balances, accrual date, installment allocations

A reversal is a payment row of its own pointing at the payment it reverses (at most once, by a unique index);
an account keeps what was overpaid as a credit and the day interest and fees have accrued to; each payment's
share of each plan installment is kept so a reversal can re-open exactly those.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("account", sa.Column("credit_minor", sa.BigInteger(), nullable=False, server_default="0"))
    op.add_column("account", sa.Column("accrued_through", sa.Date(), nullable=True))
    with op.batch_alter_table("payment") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=16), nullable=False, server_default="payment"))
        batch.add_column(sa.Column("reverses_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_payment_reverses_id_payment", "payment", ["reverses_id"], ["id"])
        batch.create_index("ix_payment_reverses_id", ["reverses_id"], unique=True)
    op.create_table(
        "installmentallocation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("installment_id", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["installment_id"], ["installment.id"]),
        sa.ForeignKeyConstraint(["payment_id"], ["payment.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_installmentallocation_payment_id", "installmentallocation", ["payment_id"])
    op.create_index("ix_installmentallocation_installment_id", "installmentallocation", ["installment_id"])


def downgrade() -> None:
    op.drop_index("ix_installmentallocation_installment_id", table_name="installmentallocation")
    op.drop_index("ix_installmentallocation_payment_id", table_name="installmentallocation")
    op.drop_table("installmentallocation")
    with op.batch_alter_table("payment") as batch:
        batch.drop_index("ix_payment_reverses_id")
        batch.drop_constraint("fk_payment_reverses_id_payment", type_="foreignkey")
        batch.drop_column("reverses_id")
        batch.drop_column("kind")
    op.drop_column("account", "accrued_through")
    op.drop_column("account", "credit_minor")
