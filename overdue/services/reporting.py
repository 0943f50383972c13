"""Portfolio figures for the CLI summary and the dashboard: one grouped query per figure."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session

from overdue.store.tables import Account, HumanTask, LegalCase, Offer, OutreachMessage, Payment, PaymentPlan


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


def _grouped(session: Session, *columns: sa.ColumnElement[object] | sa.orm.InstrumentedAttribute[object]) -> dict:  # type: ignore[type-arg]
    rows = session.execute(sa.select(*columns, sa.func.count()).group_by(*columns)).all()
    return {(tuple(row[:-1]) if len(columns) > 1 else row[0]): row[-1] for row in rows}


def portfolio_summary(session: Session) -> PortfolioSummary:
    balance = Account.principal_minor + Account.interest_minor + Account.fees_minor
    collected = session.execute(
        sa.select(Payment.currency, sa.func.sum(Payment.amount_minor)).group_by(Payment.currency)
    ).all()
    outstanding = session.execute(sa.select(Account.currency, sa.func.sum(balance)).group_by(Account.currency)).all()
    return PortfolioSummary(
        accounts_by_stage=_grouped(session, Account.stage),
        messages_by_channel=_grouped(session, OutreachMessage.channel, OutreachMessage.status),
        collected_minor={currency: int(total or 0) for currency, total in collected},
        outstanding_minor={currency: int(total or 0) for currency, total in outstanding},
        pending_approvals=session.scalar(sa.select(sa.func.count()).where(HumanTask.status == "open")) or 0,
        legal_cases=session.scalar(sa.select(sa.func.count()).select_from(LegalCase)) or 0,
        plans_by_status=_grouped(session, PaymentPlan.status),
        offers_by_status=_grouped(session, Offer.status),
    )
