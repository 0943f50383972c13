"""task queue and legal cases: claims, SLA escalation, task activity, evidence on tasks, litigation steps

Tasks get an SLA escalation mark and their history of claims, comments, attachments and first approvals;
evidence may belong to a task instead of an inbound message; conversations keep right-party contact and the
promise made; legal cases keep their costs, their demand letter (the continuation's mark) and a version for
conditional writes, and every litigation step is a dated row.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import overdue.store.tables

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("humantask") as batch:
        batch.add_column(sa.Column("escalated_at", overdue.store.tables.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("escalated_to", sa.String(length=32), nullable=True))
        batch.create_index("ix_humantask_assignee_status", ["assignee", "status"])
        batch.create_index("ix_humantask_decided_at", ["decided_at"])
    op.create_index(
        "ix_humantask_pending_due",
        "humantask",
        ["due_at", "id"],
        postgresql_where=sa.text("status IN ('open', 'info_requested')"),
        sqlite_where=sa.text("status IN ('open', 'info_requested')"),
    )
    with op.batch_alter_table("evidence") as batch:
        batch.alter_column("inbound_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("task_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("uploaded_by", sa.String(length=64), nullable=True))
        batch.create_foreign_key("fk_evidence_task_id_humantask", "humantask", ["task_id"], ["id"])
        batch.create_index("ix_evidence_task_id", ["task_id"])
    with op.batch_alter_table("conversation") as batch:
        batch.add_column(sa.Column("right_party", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column("promised_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("promised_minor", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("conversation") as batch:
        batch.alter_column("right_party", existing_type=sa.Boolean(), server_default=None)
    op.create_table(
        "taskactivity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("at", overdue.store.tables.UTCDateTime(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("evidence_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["evidence_id"], ["evidence.id"]),
        sa.ForeignKeyConstraint(["task_id"], ["humantask.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_taskactivity_task_at", "taskactivity", ["task_id", "at"])
    with op.batch_alter_table("legalcase") as batch:
        batch.add_column(sa.Column("costs_minor", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("demand_letter_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))
        batch.create_foreign_key("fk_legalcase_demand_letter_id", "outreachmessage", ["demand_letter_id"], ["id"])
    with op.batch_alter_table("legalcase") as batch:
        batch.alter_column("costs_minor", existing_type=sa.BigInteger(), server_default=None)
        batch.alter_column("version", existing_type=sa.Integer(), server_default=None)
    op.create_table(
        "legalcaseevent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("happened_on", sa.Date(), nullable=False),
        sa.Column("cost_minor", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", overdue.store.tables.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["legalcase.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_legalcaseevent_case_on", "legalcaseevent", ["case_id", "happened_on"])


def downgrade() -> None:
    op.drop_index("ix_humantask_pending_due", table_name="humantask")
    op.drop_index("ix_legalcaseevent_case_on", table_name="legalcaseevent")
    op.drop_table("legalcaseevent")
    with op.batch_alter_table("legalcase") as batch:
        batch.drop_constraint("fk_legalcase_demand_letter_id", type_="foreignkey")
        batch.drop_column("version")
        batch.drop_column("demand_letter_id")
        batch.drop_column("costs_minor")
    op.drop_index("ix_taskactivity_task_at", table_name="taskactivity")
    op.drop_table("taskactivity")
    with op.batch_alter_table("conversation") as batch:
        batch.drop_column("promised_minor")
        batch.drop_column("promised_on")
        batch.drop_column("right_party")
    with op.batch_alter_table("evidence") as batch:
        batch.drop_index("ix_evidence_task_id")
        batch.drop_constraint("fk_evidence_task_id_humantask", type_="foreignkey")
        batch.drop_column("uploaded_by")
        batch.drop_column("task_id")
        batch.alter_column("inbound_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("humantask") as batch:
        batch.drop_index("ix_humantask_decided_at")
        batch.drop_index("ix_humantask_assignee_status")
        batch.drop_column("escalated_to")
        batch.drop_column("escalated_at")
