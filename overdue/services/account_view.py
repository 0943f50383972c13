"""One account as a person working it sees it (the dashboard's Account 360): every read bounded and indexed,
personal data masked before it leaves here, long histories paged in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from overdue.domain.masking import mask_tail
from overdue.services.personal_data import MaskedDetails, masked_details
from overdue.store.tables import (
    Account,
    AuditEvent,
    Conversation,
    Customer,
    HumanTask,
    InboundMessage,
    Installment,
    LegalCase,
    OutreachMessage,
    Payment,
    PaymentPlan,
)

PREVIEW_CHARS = 90
# The events that make an account's story: stage moves and what caused them.
TIMELINE_KINDS = (
    "account.imported",
    "stage.changed",
    "account.resolved",
    "account.reopened",
    "offer.made",
    "offer.accepted",
    "plan.created",
    "plan.kept",
    "plan.broken",
    "hold.placed",
    "hold.released",
    "dispute.opened",
    "dispute.resolved",
    "task.created",
    "task.decided",
    "legal_case.opened",
    "pii.revealed",
)


@dataclass(frozen=True, slots=True)
class Profile:
    account_id: int
    account_ref: str  # masked
    customer_name: str
    jurisdiction: str
    locale: str
    time_zone: str
    vulnerability: tuple[str, ...]
    product: str
    currency: str
    principal_minor: int
    interest_minor: int
    fees_minor: int
    placed_balance_minor: int
    paid_minor: int
    due_date: date
    dpd: int
    stage: str
    stage_entered_on: date | None
    next_action_on: date | None
    broken_plans: int
    strategy_arm: str
    details: MaskedDetails

    @property
    def balance_minor(self) -> int:
        return self.principal_minor + self.interest_minor + self.fees_minor


def find_account(session: Session, text: str) -> int | None:
    """An account by its id or its full reference (A-...): exact, indexed matches only."""
    text = text.strip()
    if not text:
        return None
    if text.isdigit() and session.get(Account, int(text)) is not None:
        return int(text)
    found = session.scalar(sa.select(col(Account.id)).where(col(Account.external_ref) == text))
    return int(found) if found is not None else None


def profile(session: Session, account_id: int) -> Profile | None:
    row = session.execute(
        sa.select(Account, Customer)
        .join(Customer, col(Customer.id) == col(Account.customer_id))
        .where(col(Account.id) == account_id)
    ).first()
    if row is None:
        return None
    account, customer = row
    paid = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(col(Payment.amount_minor)), 0)).where(
            col(Payment.account_id) == account_id
        )
    )
    return Profile(
        account_id=account_id,
        account_ref=mask_tail(account.external_ref),
        customer_name=customer.full_name,
        jurisdiction=customer.jurisdiction,
        locale=customer.locale,
        time_zone=customer.time_zone,
        vulnerability=tuple(customer.vulnerability),
        product=account.product,
        currency=account.currency,
        principal_minor=account.principal_minor,
        interest_minor=account.interest_minor,
        fees_minor=account.fees_minor,
        placed_balance_minor=account.placed_balance_minor,
        paid_minor=int(paid or 0),
        due_date=account.due_date,
        dpd=account.dpd,
        stage=account.stage,
        stage_entered_on=account.stage_entered_on,
        next_action_on=account.next_action_on,
        broken_plans=account.broken_plans,
        strategy_arm=account.strategy_arm,
        details=masked_details(session, [account_id])[account_id],
    )


def _rows(session: Session, query: sa.Select[Any]) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in session.execute(query)]


def _count(session: Session, query: sa.Select[Any]) -> int:
    return int(session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0)


def timeline(session: Session, account_id: int, *, limit: int, offset: int) -> tuple[int, list[dict[str, Any]]]:
    """Newest first: when, what, who, and the event's details (never personal data: events carry none)."""
    where = (col(AuditEvent.account_id) == account_id, col(AuditEvent.kind).in_(TIMELINE_KINDS))
    query = sa.select(col(AuditEvent.ts), col(AuditEvent.kind), col(AuditEvent.actor), col(AuditEvent.data)).where(
        *where
    )
    total = _count(session, sa.select(col(AuditEvent.id)).where(*where))
    rows = _rows(
        session, query.order_by(col(AuditEvent.ts).desc(), col(AuditEvent.id).desc()).limit(limit).offset(offset)
    )
    return total, rows


def contact_history(session: Session, account_id: int, *, limit: int, offset: int) -> tuple[int, list[dict[str, Any]]]:
    """Messages we queued or sent, newest first, each with the first words of what it said."""
    where = col(OutreachMessage.account_id) == account_id
    total = _count(session, sa.select(col(OutreachMessage.id)).where(where))
    query = (
        sa.select(
            col(OutreachMessage.id),
            col(OutreachMessage.created_at),
            col(OutreachMessage.sent_at),
            col(OutreachMessage.channel),
            col(OutreachMessage.template),
            col(OutreachMessage.status),
            col(OutreachMessage.delivery),
            col(OutreachMessage.subject),
            sa.func.substr(col(OutreachMessage.body), 1, PREVIEW_CHARS).label("preview"),
        )
        .where(where)
        .order_by(col(OutreachMessage.created_at).desc(), col(OutreachMessage.id).desc())
        .limit(limit)
        .offset(offset)
    )
    return total, _rows(session, query)


def replies_and_conversations(session: Session, account_id: int, *, limit: int) -> list[dict[str, Any]]:
    """What the customer told us: their texts and emails, and the conversations agents logged; newest first."""
    inbound = _rows(
        session,
        sa.select(
            col(InboundMessage.received_at).label("at"),
            col(InboundMessage.channel),
            col(InboundMessage.intent).label("outcome"),
            sa.func.substr(col(InboundMessage.body), 1, PREVIEW_CHARS).label("preview"),
            sa.literal("customer").label("by"),
        )
        .where(col(InboundMessage.account_id) == account_id)
        .order_by(col(InboundMessage.received_at).desc())
        .limit(limit),
    )
    talks = _rows(
        session,
        sa.select(
            col(Conversation.at),
            col(Conversation.channel),
            col(Conversation.outcome),
            sa.func.substr(col(Conversation.note), 1, PREVIEW_CHARS).label("preview"),
            col(Conversation.recorded_by).label("by"),
        )
        .where(col(Conversation.account_id) == account_id)
        .order_by(col(Conversation.at).desc())
        .limit(limit),
    )
    return sorted(inbound + talks, key=lambda row: row["at"], reverse=True)[:limit]


def plans(session: Session, account_id: int) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Each plan (newest first) with its installments in order."""
    found = _rows(
        session,
        sa.select(
            col(PaymentPlan.id),
            col(PaymentPlan.status),
            col(PaymentPlan.total_minor),
            col(PaymentPlan.grace_days),
            col(PaymentPlan.created_on),
            col(PaymentPlan.ended_on),
        )
        .where(col(PaymentPlan.account_id) == account_id)
        .order_by(col(PaymentPlan.created_on).desc(), col(PaymentPlan.id).desc())
        .limit(20),
    )
    ids = [plan["id"] for plan in found]
    installments: dict[int, list[dict[str, Any]]] = {plan_id: [] for plan_id in ids}
    if ids:
        query = (
            sa.select(
                col(Installment.plan_id),
                col(Installment.seq),
                col(Installment.due_date),
                col(Installment.amount_minor),
                col(Installment.paid_minor),
            )
            .where(col(Installment.plan_id).in_(ids))
            .order_by(col(Installment.plan_id), col(Installment.seq))
        )
        for row in _rows(session, query):
            installments[row["plan_id"]].append(row)
    return [(plan, installments[plan["id"]]) for plan in found]


def payments(session: Session, account_id: int, *, limit: int, offset: int) -> tuple[int, list[dict[str, Any]]]:
    where = col(Payment.account_id) == account_id
    total = _count(session, sa.select(col(Payment.id)).where(where))
    query = (
        sa.select(
            col(Payment.received_on),
            col(Payment.amount_minor),
            col(Payment.currency),
            col(Payment.source),
            col(Payment.to_fees_minor),
            col(Payment.to_interest_minor),
            col(Payment.to_principal_minor),
            col(Payment.unapplied_minor),
        )
        .where(where)
        .order_by(col(Payment.received_on).desc(), col(Payment.id).desc())
        .limit(limit)
        .offset(offset)
    )
    return total, _rows(session, query)


def tasks(session: Session, account_id: int) -> list[dict[str, Any]]:
    return _rows(
        session,
        sa.select(
            col(HumanTask.id),
            col(HumanTask.kind),
            col(HumanTask.status),
            col(HumanTask.role_needed),
            col(HumanTask.assignee),
            col(HumanTask.created_at),
            col(HumanTask.due_at),
            col(HumanTask.decided_by),
            col(HumanTask.decided_at),
            col(HumanTask.reason),
        )
        .where(col(HumanTask.account_id) == account_id)
        .order_by(col(HumanTask.created_at).desc(), col(HumanTask.id).desc())
        .limit(50),
    )


def legal_cases(session: Session, account_id: int) -> list[dict[str, Any]]:
    return _rows(
        session,
        sa.select(
            col(LegalCase.id),
            col(LegalCase.status),
            col(LegalCase.balance_minor),
            col(LegalCase.opened_on),
            col(LegalCase.approved_by),
            col(LegalCase.task_id),
        )
        .where(col(LegalCase.account_id) == account_id)
        .order_by(col(LegalCase.opened_on).desc()),
    )
