"""Portfolio figures for the CLI summary and the dashboard: one grouped query per figure."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlmodel import Session, col

from overdue.domain.plans import BROKEN, KEPT, PROMISE
from overdue.store.tables import (
    Account,
    AuditEvent,
    Hold,
    HumanTask,
    LegalCase,
    Offer,
    OutreachMessage,
    Payment,
    PaymentPlan,
)

ENDED = (KEPT, BROKEN)


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
    plan_outcomes: dict[str, int]


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
        plan_outcomes=plan_outcomes(session),
    )


def _blocked_by_rule(session: Session) -> dict[str, int]:
    """Contacts the guard refused, per rule (one contact may be refused by several rules)."""
    counts: Counter[str] = Counter()
    query = sa.select(col(AuditEvent.data)).where(col(AuditEvent.kind) == "message.blocked")
    for data in session.scalars(query.execution_options(yield_per=5000)):
        counts.update(data.get("rules", []))
    return dict(counts.most_common())


@dataclass(frozen=True)
class ArmOutcome:
    """How one strategy arm is doing: what a manager compares champion against challenger on."""

    arm: str
    accounts: int
    resolved: int  # closed: nothing owed any more
    recovery_rate: float  # mean over accounts of paid / balance placed for collection (currency-free)
    contacts_per_account: float
    contact_cost_per_account: float  # USD, from the experiment's channel costs
    plans_kept: int
    plans_broken: int
    disputes_and_complaints: int
    promises_kept: int = 0
    promises_broken: int = 0

    @property
    def resolved_rate(self) -> float:
        return self.resolved / self.accounts if self.accounts else 0.0

    @property
    def plan_kept_rate(self) -> float:
        ended = self.plans_kept + self.plans_broken
        return self.plans_kept / ended if ended else 0.0

    @property
    def ptp_kept_rate(self) -> float:
        """Promises paid in full by their date (and grace) over promises that came due."""
        due = self.promises_kept + self.promises_broken
        return self.promises_kept / due if due else 0.0


def arm_outcomes(session: Session, channel_costs: Mapping[str, float]) -> list[ArmOutcome]:
    """One row per strategy arm, from a handful of grouped queries over the whole portfolio."""
    arm = col(Account.strategy_arm)
    paid = (
        sa.select(col(Payment.account_id).label("account_id"), sa.func.sum(col(Payment.amount_minor)).label("paid"))
        .group_by(col(Payment.account_id))
        .subquery()
    )
    ratio = sa.func.coalesce(paid.c.paid, 0) * 1.0 / sa.func.nullif(col(Account.placed_balance_minor), 0)
    base = session.execute(
        sa.select(
            arm,
            sa.func.count(),
            sa.func.sum(sa.case((col(Account.stage) == "closed", 1), else_=0)),
            sa.func.avg(sa.func.coalesce(ratio, 0.0)),
        )
        .outerjoin(paid, paid.c.account_id == col(Account.id))
        .group_by(arm)
    ).all()
    sent: dict[str, Counter[str]] = {}
    for name, channel, count in session.execute(
        sa.select(arm, col(OutreachMessage.channel), sa.func.count())
        .join(Account, col(Account.id) == col(OutreachMessage.account_id))
        .where(col(OutreachMessage.sent_at).is_not(None))
        .group_by(arm, col(OutreachMessage.channel))
    ):
        sent.setdefault(name, Counter())[channel] = count
    plans = _per_arm(session, _plan_or_promise(), PaymentPlan.account_id)
    holds = _per_arm(session, col(Hold.kind), Hold.account_id)
    outcomes = []
    for name, accounts, resolved, recovery in base:
        contacts = sent.get(name, Counter())
        cost = sum(count * channel_costs.get(channel, 0.0) for channel, count in contacts.items())
        outcomes.append(
            ArmOutcome(
                arm=name,
                accounts=accounts,
                resolved=int(resolved or 0),
                recovery_rate=float(recovery or 0.0),
                contacts_per_account=sum(contacts.values()) / accounts,
                contact_cost_per_account=cost / accounts,
                plans_kept=plans.get((name, "plans_kept"), 0),
                plans_broken=plans.get((name, "plans_broken"), 0),
                disputes_and_complaints=holds.get((name, "dispute"), 0) + holds.get((name, "complaint"), 0),
                promises_kept=plans.get((name, "promises_kept"), 0),
                promises_broken=plans.get((name, "promises_broken"), 0),
            )
        )
    return sorted(outcomes, key=lambda outcome: -outcome.accounts)


def _per_arm(session: Session, value: Any, account_id: Any) -> dict[tuple[str, str], int]:
    rows = session.execute(
        sa.select(col(Account.strategy_arm), value, sa.func.count())
        .join(Account, col(Account.id) == account_id)
        .group_by(col(Account.strategy_arm), value)
    ).all()
    return {(name, key): count for name, key, count in rows}


def _plan_or_promise() -> sa.ColumnElement[str]:
    """`plans_kept`, `promises_broken`, ... for ended plans and promises; other statuses as they are."""
    promise = col(PaymentPlan.kind) == PROMISE
    status = col(PaymentPlan.status)
    return sa.case(
        (sa.and_(promise, status.in_(ENDED)), sa.literal("promises_") + status),
        (status.in_(ENDED), sa.literal("plans_") + status),
        else_=status,
    )


def plan_outcomes(session: Session) -> dict[str, int]:
    """Kept and broken plans and promises to pay over the portfolio (a replaced promise is neither)."""
    counts = _grouped(session, _plan_or_promise())  # type: ignore[arg-type]
    return {key: counts.get(key, 0) for key in ("plans_kept", "plans_broken", "promises_kept", "promises_broken")}
