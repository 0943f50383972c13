"""Portfolio figures for the CLI summary and the dashboard: one grouped query per figure."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, aliased
from sqlmodel import Session, col

from overdue.domain.plans import BROKEN, KEPT, PROMISE
from overdue.store.tables import (
    Account,
    AuditEvent,
    Conversation,
    CycleShard,
    Hold,
    HumanTask,
    InboundMessage,
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
    went_delinquent: int = 0  # past the due date unpaid
    cured: int = 0  # of those, back to current or paid off
    promises_kept: int = 0  # promises to pay whose date has come, paid by it
    promises_broken: int = 0  # promises whose date has come, not paid

    @property
    def cure_rate(self) -> float:
        return self.cured / self.went_delinquent if self.went_delinquent else 0.0

    @property
    def ptp_kept_rate(self) -> float:
        due = self.promises_kept + self.promises_broken
        return self.promises_kept / due if due else 0.0

    @property
    def resolved_rate(self) -> float:
        return self.resolved / self.accounts if self.accounts else 0.0

    @property
    def plan_kept_rate(self) -> float:
        ended = self.plans_kept + self.plans_broken
        return self.plans_kept / ended if ended else 0.0


def arm_outcomes(session: Session, channel_costs: Mapping[str, float]) -> list[ArmOutcome]:
    """One row per strategy arm, from a handful of grouped queries over the whole portfolio."""
    arm = col(Account.strategy_arm)
    paid = (
        sa.select(col(Payment.account_id).label("account_id"), sa.func.sum(col(Payment.amount_minor)).label("paid"))
        .group_by(col(Payment.account_id))
        .subquery()
    )
    ratio = sa.func.coalesce(paid.c.paid, 0) * 1.0 / sa.func.nullif(col(Account.placed_balance_minor), 0)
    as_of = report_date(session)
    closed = col(Account.stage) == "closed"
    # Delinquent: the due date passed before the account was paid off (a closed account's stage_entered_on is
    # the day it closed). Cured: of those, current or paid off now.
    delinquent = sa.and_(
        col(Account.due_date) < as_of,
        sa.not_(sa.and_(closed, col(Account.stage_entered_on) <= col(Account.due_date))),
    )
    cured = sa.and_(delinquent, col(Account.stage).in_(["current", "closed"]))
    base = session.execute(
        sa.select(
            arm,
            sa.func.count(),
            sa.func.sum(sa.case((closed, 1), else_=0)),
            sa.func.avg(sa.func.coalesce(ratio, 0.0)),
            sa.func.sum(sa.case((delinquent, 1), else_=0)),
            sa.func.sum(sa.case((cured, 1), else_=0)),
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
    promises = promises_kept_per_arm(session, as_of)
    outcomes = []
    for name, accounts, resolved, recovery, went_delinquent, cured_accounts in base:
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
                went_delinquent=int(went_delinquent or 0),
                cured=int(cured_accounts or 0),
                promises_kept=promises.get(name, (0, 0))[0],
                promises_broken=promises.get(name, (0, 0))[1],
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


def report_date(session: Session) -> date:
    """The last business date the cycle ran for (a simulation's last day), or today when it never ran."""
    return session.scalar(sa.select(sa.func.max(col(CycleShard.as_of)))) or datetime.now(UTC).date()


PROMISE_DAYS = 7  # a promise to pay made in a conversation, without a date, is for within a week


def promises_kept_per_arm(session: Session, as_of: date) -> dict[str, tuple[int, int]]:
    """Per arm: (promises kept, promises broken) among those whose date has passed, in one grouped query.
    A promise is a reply read as a promise with its date, or a conversation whose outcome was a promise to pay
    (for PROMISE_DAYS later); it is kept when a payment that stands (not reversed) arrived between the promise
    and its date. The tables hold no promised amount, so any such payment keeps it."""

    def day(instant: Any, plus_days: int = 0) -> Any:
        if session.get_bind().dialect.name == "postgresql":
            return sa.cast(instant, sa.Date) + plus_days
        return sa.func.date(instant, f"+{plus_days} days", type_=sa.Date)

    conversation_day, conversation_due = day(col(Conversation.at)), day(col(Conversation.at), PROMISE_DAYS)
    made = sa.union_all(
        sa.select(
            col(InboundMessage.account_id).label("account_id"),
            day(col(InboundMessage.received_at)).label("made_on"),
            col(InboundMessage.promised_on).label("due_on"),
        ).where(col(InboundMessage.intent) == "promise", col(InboundMessage.promised_on).is_not(None)),
        sa.select(col(Conversation.account_id), conversation_day, conversation_due).where(
            col(Conversation.outcome) == "promise_to_pay"
        ),
    ).subquery()
    reversal = aliased(Payment)
    returned = sa.select(col(reversal.reverses_id)).where(col(reversal.reverses_id).is_not(None))
    kept = sa.exists().where(
        col(Payment.account_id) == made.c.account_id,
        col(Payment.kind) == "payment",
        col(Payment.received_on) >= made.c.made_on,
        col(Payment.received_on) <= made.c.due_on,
        col(Payment.id).not_in(returned),
    )
    rows = session.execute(
        sa.select(col(Account.strategy_arm), sa.func.count(), sa.func.sum(sa.case((kept, 1), else_=0)))
        .select_from(made)
        .join(Account, col(Account.id) == made.c.account_id)
        .where(made.c.due_on < as_of)
        .group_by(col(Account.strategy_arm))
    ).all()
    return {arm: (int(kept_count or 0), due - int(kept_count or 0)) for arm, due, kept_count in rows}


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
