"""Portfolio figures for the CLI summary and the dashboard: one grouped query per figure."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlmodel import Session, col

from overdue.store.tables import Account, AuditEvent, HumanTask, LegalCase, Offer, OutreachMessage, Payment, PaymentPlan


@dataclass(frozen=True)
class PortfolioSummary:
    accounts_by_stage: dict[str, int]
    messages_by_channel: dict[tuple[str, str], int]
    collected_minor: dict[str, int]
    outstanding_minor: dict[str, int]
    pending_approvals: int
    legal_cases: int
    plans_by_status: dict[str, int]
    offers_by_status: dict[str, int]
    blocked_by_rule: dict[str, int]


def _grouped(session: Session, *columns: Mapped[str]) -> dict[Any, int]:
    """Row counts per value of the columns (a tuple key for several columns)."""
    rows = session.execute(sa.select(*columns, sa.func.count()).group_by(*columns)).all()
    return {(tuple(row[:-1]) if len(columns) > 1 else row[0]): row[-1] for row in rows}


def portfolio_summary(session: Session) -> PortfolioSummary:
    balance = col(Account.principal_minor) + col(Account.interest_minor) + col(Account.fees_minor)
    collected = session.execute(
        sa.select(col(Payment.currency), sa.func.sum(col(Payment.amount_minor))).group_by(col(Payment.currency))
    ).all()
    outstanding = session.execute(
        sa.select(col(Account.currency), sa.func.sum(balance)).group_by(col(Account.currency))
    ).all()
    return PortfolioSummary(
        accounts_by_stage=_grouped(session, col(Account.stage)),
        messages_by_channel=_grouped(session, col(OutreachMessage.channel), col(OutreachMessage.status)),
        collected_minor={currency: int(total or 0) for currency, total in collected},
        outstanding_minor={currency: int(total or 0) for currency, total in outstanding},
        pending_approvals=session.scalar(sa.select(sa.func.count()).where(col(HumanTask.status) == "open")) or 0,
        legal_cases=session.scalar(sa.select(sa.func.count()).select_from(LegalCase)) or 0,
        plans_by_status=_grouped(session, col(PaymentPlan.status)),
        offers_by_status=_grouped(session, col(Offer.status)),
        blocked_by_rule=_blocked_by_rule(session),
    )


def _blocked_by_rule(session: Session) -> dict[str, int]:
    """Contacts the guard refused, per rule (one contact may be refused by several rules)."""
    counts: Counter[str] = Counter()
    query = sa.select(col(AuditEvent.data)).where(col(AuditEvent.kind) == "message.blocked")
    for data in session.scalars(query.execution_options(yield_per=5000)):
        counts.update(data.get("rules", []))
    return dict(counts.most_common())
