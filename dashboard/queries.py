"""What the dashboard reads: only the columns a page shows, personal data masked before it leaves here,
paged in SQL so a backlog of thousands of tasks costs one page of rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from overdue.domain.masking import mask_tail
from overdue.services.cycle import BALANCE
from overdue.services.personal_data import MaskedDetails, masked_details
from overdue.settings import get_settings
from overdue.store.tables import Account, Customer, HumanTask


def database_url() -> str:
    """The database the dashboard reads and writes: OVERDUE_DATABASE_URL, else the local SQLite file."""
    return get_settings().effective_database_url


@dataclass(frozen=True, slots=True)
class OpenTaskCounts:
    total: int
    past_sla: int


@dataclass(frozen=True, slots=True)
class PendingTask:
    """One open task as a person sees it; `version` is what a decision on it must expect."""

    id: int
    version: int
    account_id: int
    account_ref: str
    customer_name: str
    jurisdiction: str
    stage: str
    dpd: int
    balance_minor: int
    currency: str
    rule: str
    created_at: datetime
    due_at: datetime | None
    details: MaskedDetails


@dataclass(frozen=True, slots=True)
class DecidedTask:
    id: int
    account_ref: str
    decision: str
    decided_by: str
    reason: str
    decided_at: datetime


def count_open_tasks(session: Session, kind: str, now: datetime) -> OpenTaskCounts:
    past_due = sa.case((col(HumanTask.due_at) < now, 1), else_=0)
    total, past_sla = session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(past_due), 0)).where(
            col(HumanTask.status) == "open", col(HumanTask.kind) == kind
        )
    ).one()
    return OpenTaskCounts(total=int(total), past_sla=int(past_sla))


def open_tasks(session: Session, kind: str, *, limit: int, offset: int) -> list[PendingTask]:
    """Oldest first, with the id as tie-breaker so pages never overlap or skip a task."""
    rows = session.execute(
        sa.select(
            col(HumanTask.id),
            col(HumanTask.version),
            col(HumanTask.payload),
            col(HumanTask.created_at),
            col(HumanTask.due_at),
            col(Account.id).label("account_id"),
            col(Account.external_ref),
            col(Account.stage),
            col(Account.dpd),
            BALANCE.label("balance_minor"),
            col(Account.currency),
            col(Customer.full_name),
            col(Customer.jurisdiction),
        )
        .join(Account, col(Account.id) == col(HumanTask.account_id))
        .join(Customer, col(Customer.id) == col(Account.customer_id))
        .where(col(HumanTask.status) == "open", col(HumanTask.kind) == kind)
        .order_by(col(HumanTask.created_at), col(HumanTask.id))
        .limit(limit)
        .offset(offset)
    ).all()
    details = masked_details(session, [row.account_id for row in rows])
    return [
        PendingTask(
            id=row.id,
            version=row.version,
            account_id=row.account_id,
            account_ref=mask_tail(row.external_ref),
            customer_name=row.full_name,
            jurisdiction=row.jurisdiction,
            stage=row.stage,
            dpd=row.dpd,
            balance_minor=row.balance_minor,
            currency=row.currency,
            rule=str(row.payload.get("rule", "")),
            created_at=row.created_at,
            due_at=row.due_at,
            details=details[row.account_id],
        )
        for row in rows
    ]


def recently_decided(session: Session, kind: str, *, limit: int) -> list[DecidedTask]:
    rows = session.execute(
        sa.select(
            col(HumanTask.id),
            col(HumanTask.status),
            col(HumanTask.decided_by),
            col(HumanTask.reason),
            col(HumanTask.decided_at),
            col(Account.external_ref),
        )
        .join(Account, col(Account.id) == col(HumanTask.account_id))
        .where(col(HumanTask.kind) == kind, col(HumanTask.status) != "open", col(HumanTask.decided_at).is_not(None))
        .order_by(col(HumanTask.decided_at).desc(), col(HumanTask.id).desc())
        .limit(limit)
    ).all()
    return [
        DecidedTask(
            id=row.id,
            account_ref=mask_tail(row.external_ref),
            decision=row.status,
            decided_by=row.decided_by or "",
            reason=row.reason or "",
            decided_at=row.decided_at,
        )
        for row in rows
    ]


@dataclass(frozen=True, slots=True)
class PendingOffer:
    """An offer waiting for approval, with its task; `version` is what a decision on the task must expect."""

    task_id: int
    version: int
    requested_by: str
    approvals: list[str]
    approvals_needed: int
    reasons: list[str]
    created_at: datetime
    due_at: datetime | None
    account_ref: str
    jurisdiction: str
    offer: dict[str, Any]  # overdue.services.offers.offer_view: total, schedule, interest and fees


def open_offer_approvals(session: Session, *, limit: int) -> list[PendingOffer]:
    """Open `offer_approval` tasks, oldest first, with the terms of their offer (no personal data)."""
    from overdue.domain.validation import public_holidays
    from overdue.runtime import get_runtime
    from overdue.services.offers import OFFER_APPROVAL, offer_view
    from overdue.store.tables import Offer

    config = get_runtime(database_url()).config
    rows = session.execute(
        sa.select(HumanTask, col(Account.external_ref), col(Account.currency), col(Customer.jurisdiction))
        .join(Account, col(Account.id) == col(HumanTask.account_id))
        .join(Customer, col(Customer.id) == col(Account.customer_id))
        .where(col(HumanTask.kind) == OFFER_APPROVAL, col(HumanTask.status) == "open")
        .order_by(col(HumanTask.created_at), col(HumanTask.id))
        .limit(limit)
    ).all()
    offer_ids = [task.payload.get("offer_id") for task, *_ in rows]
    offers = {offer.id: offer for offer in session.scalars(sa.select(Offer).where(col(Offer.id).in_(offer_ids)))}
    return [
        PendingOffer(
            task_id=task.id,
            version=task.version,
            requested_by=task.requested_by,
            approvals=[approval["by"] for approval in task.payload.get("approvals", [])],
            approvals_needed=int(task.payload.get("approvals_needed", 1)),
            reasons=list(task.payload.get("reasons", [])),
            created_at=task.created_at,
            due_at=task.due_at,
            account_ref=account_ref,
            jurisdiction=jurisdiction,
            offer=offer_view(
                offers[task.payload["offer_id"]],
                currency,
                public_holidays(config.policy(jurisdiction).holiday_country),
            ),
        )
        for task, account_ref, currency, jurisdiction in rows
        if task.payload.get("offer_id") in offers
    ]
