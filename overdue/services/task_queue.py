"""The task queue as people browse it: my tasks, the team's queue, filters, paged in SQL.

A backlog of thousands of tasks costs one page of rows and one count; personal data is masked before it leaves
here (the account reference keeps its last four characters).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import sqlalchemy as sa
from sqlmodel import Session, col

from overdue.domain import tasks as rules
from overdue.domain.masking import mask_tail
from overdue.services.condition_sql import BALANCE
from overdue.store.tables import Account, Customer, HumanTask, TaskActivity

Scope = Literal["mine", "team", "all"]


@dataclass(frozen=True, slots=True)
class TaskFilter:
    """`mine`: assigned to the user; `team`: every task a role of the user works, and the ones escalated to it
    (a supervisor's or an admin's team queue is every task: they assign the work)."""

    scope: Scope = "team"
    user: str = ""
    roles: frozenset[str] = frozenset()
    kinds: tuple[str, ...] = ()
    statuses: tuple[str, ...] = rules.PENDING
    breached: bool | None = None  # True: past SLA only; False: within SLA only


@dataclass(frozen=True, slots=True)
class TaskRow:
    id: int
    version: int
    kind: str
    status: str
    account_id: int
    account_ref: str
    customer_name: str
    jurisdiction: str
    stage: str
    dpd: int
    balance_minor: int
    currency: str
    role_needed: str
    assignee: str | None
    requested_by: str
    created_at: datetime
    due_at: datetime | None
    escalated_at: datetime | None
    escalated_to: str | None
    approvals: int
    approvals_needed: int
    payload: dict[str, object] = field(default_factory=dict)
    waiting_since: datetime | None = None  # when information was asked for, while the task waits for it

    @property
    def view(self) -> rules.TaskView:
        """What the queue's rules need to know, to enable only the buttons that would be accepted."""
        return rules.TaskView(
            self.id, self.status, self.role_needed, self.requested_by, self.assignee, self.escalated_to
        )


def _where(f: TaskFilter, now: datetime) -> list[sa.ColumnElement[bool]]:
    where: list[sa.ColumnElement[bool]] = []
    if f.statuses:
        where.append(col(HumanTask.status).in_(f.statuses))
    if f.kinds:
        where.append(col(HumanTask.kind).in_(f.kinds))
    if f.scope == "mine":
        where.append(col(HumanTask.assignee) == f.user)
    elif f.scope == "team" and not rules.QUEUE_MANAGERS & f.roles:  # a supervisor's team queue is everyone's
        where.append(
            sa.or_(col(HumanTask.role_needed).in_(sorted(f.roles)), col(HumanTask.escalated_to).in_(sorted(f.roles)))
        )
    if f.breached is True:
        where.append(_past_due(now))
    elif f.breached is False:
        where.append(sa.not_(_past_due(now)))
    return where


def _past_due(now: datetime) -> sa.ColumnElement[bool]:
    """Breached: open and past its due time (a task waiting for information is paused, never late)."""
    return sa.and_(
        col(HumanTask.status) == rules.OPEN, col(HumanTask.due_at).is_not(None), col(HumanTask.due_at) <= now
    )


@dataclass(frozen=True, slots=True)
class QueueCounts:
    total: int
    breached: int


def count_tasks(session: Session, f: TaskFilter, now: datetime) -> QueueCounts:
    past_due = sa.case((_past_due(now), 1), else_=0)
    total, breached = session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(past_due), 0)).where(*_where(f, now))
    ).one()
    return QueueCounts(int(total), int(breached))


def _select() -> sa.Select[tuple[object, ...]]:
    approvals = (
        sa.select(sa.func.count())
        .where(col(TaskActivity.task_id) == col(HumanTask.id), col(TaskActivity.kind) == "approval")
        .scalar_subquery()
    )
    return (
        sa.select(
            HumanTask,
            col(Account.external_ref),
            col(Account.stage),
            col(Account.dpd),
            BALANCE.label("balance_minor"),
            col(Account.currency),
            col(Customer.full_name),
            col(Customer.jurisdiction),
            approvals.label("approvals"),
        )
        .join(Account, col(Account.id) == col(HumanTask.account_id))
        .join(Customer, col(Customer.id) == col(Account.customer_id))
    )


def list_tasks(session: Session, f: TaskFilter, now: datetime, *, limit: int, offset: int = 0) -> list[TaskRow]:
    """Most urgent first (the earliest SLA), the id breaking ties so pages never overlap; the order is the
    pending queue's index (`ix_humantask_pending_due`), so a page costs the rows before it, not a sort of all."""
    pending = set(f.statuses) <= set(rules.PENDING)
    order = (
        (col(HumanTask.due_at), col(HumanTask.id))
        if pending
        else (col(HumanTask.decided_at).desc(), col(HumanTask.id).desc())  # decided: the latest first
    )
    query = _select().where(*_where(f, now)).order_by(*order).limit(limit).offset(offset)
    return [_row(*row) for row in session.execute(query).all()]


def get_task_row(session: Session, task_id: int) -> TaskRow | None:
    row = session.execute(_select().where(col(HumanTask.id) == task_id)).first()
    return _row(*row) if row is not None else None


def _row(
    task: HumanTask,
    external_ref: str,
    stage: str,
    dpd: int,
    balance: int,
    currency: str,
    name: str,
    jurisdiction: str,
    approvals: int,
) -> TaskRow:
    assert task.id is not None
    assert task.created_at is not None
    return TaskRow(
        id=task.id,
        version=task.version,
        kind=task.kind,
        status=task.status,
        account_id=task.account_id,
        account_ref=mask_tail(external_ref),
        customer_name=name,
        jurisdiction=jurisdiction,
        stage=stage,
        dpd=dpd,
        balance_minor=balance,
        currency=currency,
        role_needed=task.role_needed,
        assignee=task.assignee,
        requested_by=task.requested_by,
        created_at=task.created_at,
        due_at=task.due_at,
        escalated_at=task.escalated_at,
        escalated_to=task.escalated_to,
        approvals=int(approvals or 0),
        approvals_needed=int(task.payload.get("approvals_needed", 1)),
        payload=dict(task.payload),
        waiting_since=task.decided_at if rules.sla_paused(task.status) else None,
    )


def kinds_in(roles: Collection[str], kinds: dict[str, str]) -> list[str]:
    """The task kinds a person with `roles` works, from {kind: role}."""
    return sorted(kind for kind, role in kinds.items() if role in roles)
