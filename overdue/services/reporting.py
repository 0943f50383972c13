"""Portfolio figures for the CLI summary and the dashboard: one grouped query per figure, and the managers'
figures read from the daily rollups."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlmodel import Session, col

from overdue.domain.plans import BROKEN, KEPT, PROMISE
from overdue.store.tables import (
    Account,
    AuditEvent,
    CycleShard,
    Hold,
    HumanTask,
    LegalCase,
    MetricRollup,
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


def report_date(session: Session) -> date:
    """The last business date the cycle ran for (a simulation's last day), or today when it never ran."""
    return session.scalar(sa.select(sa.func.max(col(CycleShard.as_of)))) or datetime.now(UTC).date()


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


# --- from the daily rollups (overdue/services/rollups.py): what the managers' page reads --------------------

RollupKey = tuple[str, str, str, str]  # metric, arm, key1, key2
FLOW_METRICS = ("roll", "cure", "cohort_paid", "ptp", "contact", "channel", "holds", "tasks")
SNAPSHOT_METRICS = ("stage", "cohort_placed", "cohort_outstanding", "tasks")
STAGE_ORDER = ("current", "reminder", "negotiation", "plan", "legal", "closed")


@dataclass(frozen=True)
class RollupWindow:
    """The rollup rows of a date range, summed, with the snapshots that frame it; a handful of indexed range
    reads over `metricrollup`, whatever the size of the portfolio."""

    first: date
    last: date
    end_day: date | None  # the last rolled-up date in the range: the snapshots are of its end
    days: int  # rolled-up dates in the range
    flows: dict[RollupKey, tuple[int, int]]  # summed over the range
    at_end: dict[RollupKey, tuple[int, int]]
    outstanding_at_start: dict[RollupKey, int]  # cohort_outstanding the day before the range
    paid_to_date: dict[RollupKey, int]  # cohort_paid summed up to the last day

    @property
    def arms(self) -> list[str]:
        return sorted({key[1] for key in self.at_end if key[0] == "stage"})


def rolled_up_days(session: Session) -> tuple[date, date] | None:
    """The first and last dates with rollups, or None before the first daily cycle."""
    marker = col(MetricRollup.metric) == "rolled_up"
    first, last = session.execute(
        sa.select(sa.func.min(col(MetricRollup.as_of)), sa.func.max(col(MetricRollup.as_of))).where(marker)
    ).one()
    return None if first is None else (first, last)


def _summed(session: Session, *where: Any) -> dict[RollupKey, tuple[int, int]]:
    columns = (col(MetricRollup.metric), col(MetricRollup.arm), col(MetricRollup.key1), col(MetricRollup.key2))
    query = (
        sa.select(*columns, sa.func.sum(col(MetricRollup.count)), sa.func.sum(col(MetricRollup.amount_minor)))
        .where(*where)
        .group_by(*columns)
    )
    return {(m, a, k1, k2): (int(n or 0), int(amount or 0)) for m, a, k1, k2, n, amount in session.execute(query)}


def _last_rolled(session: Session, *where: Any) -> date | None:
    found = session.scalar(
        sa.select(sa.func.max(col(MetricRollup.as_of))).where(col(MetricRollup.metric) == "rolled_up", *where)
    )
    return found if isinstance(found, date) else None


def rollup_window(session: Session, first: date, last: date) -> RollupWindow:
    as_of = col(MetricRollup.as_of)
    metric = col(MetricRollup.metric)
    end_day = _last_rolled(session, as_of <= last, as_of >= first)
    start_day = _last_rolled(session, as_of < first)
    flows = _summed(session, metric.in_(FLOW_METRICS), as_of >= first, as_of <= last)
    at_end = _summed(session, metric.in_(SNAPSHOT_METRICS), as_of == end_day) if end_day else {}
    before = _summed(session, metric == "cohort_outstanding", as_of == start_day) if start_day else {}
    paid = _summed(session, metric == "cohort_paid", as_of <= last)
    days = session.scalar(sa.select(sa.func.count()).where(metric == "rolled_up", as_of >= first, as_of <= last))
    return RollupWindow(
        first=first,
        last=last,
        end_day=end_day,
        days=int(days or 0),
        flows=flows,
        at_end=at_end,
        outstanding_at_start={key: amount for key, (_, amount) in before.items()},
        paid_to_date={key: amount for key, (_, amount) in paid.items()},
    )


def _pick(
    figures: Mapping[RollupKey, tuple[int, int]], metric: str, arms: Collection[str]
) -> dict[tuple[str, str], tuple[int, int]]:
    """One metric's figures summed over the chosen arms, keyed (key1, key2)."""
    picked: dict[tuple[str, str], tuple[int, int]] = {}
    for (name, arm, key1, key2), (count, amount) in figures.items():
        if name == metric and arm in arms:
            before = picked.get((key1, key2), (0, 0))
            picked[(key1, key2)] = (before[0] + count, before[1] + amount)
    return picked


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def funnel(window: RollupWindow, arms: Collection[str]) -> list[dict[str, Any]]:
    stages = _pick(window.at_end, "stage", arms)
    known = [stage for stage in STAGE_ORDER if (stage, "") in stages]
    others = sorted(stage for stage, _ in stages if stage not in STAGE_ORDER)
    return [{"stage": stage, "accounts": stages[(stage, "")][0]} for stage in known + others]


def cohorts(window: RollupWindow, arms: Collection[str]) -> list[dict[str, Any]]:
    """Per cohort (month of the due date) and currency: recovery to date (paid / placed) and liquidation in the
    range (paid in it / outstanding the day before it)."""
    placed = _pick(window.at_end, "cohort_placed", arms)
    paid_in_range = _pick(window.flows, "cohort_paid", arms)
    paid_to_date = {key[2:]: 0 for key in window.paid_to_date}
    for (_, arm, key1, key2), amount in window.paid_to_date.items():
        if arm in arms:
            paid_to_date[(key1, key2)] = paid_to_date.get((key1, key2), 0) + amount
    outstanding_before: dict[tuple[str, str], int] = {}
    for (_, arm, key1, key2), amount in window.outstanding_at_start.items():
        if arm in arms:
            outstanding_before[(key1, key2)] = outstanding_before.get((key1, key2), 0) + amount
    rows = []
    for (cohort, currency), (accounts, placed_minor) in sorted(placed.items()):
        paid_total = paid_to_date.get((cohort, currency), 0)
        paid_now = paid_in_range.get((cohort, currency), (0, 0))[1]
        rows.append(
            {
                "cohort": cohort,
                "currency": currency,
                "accounts": accounts,
                "placed_minor": placed_minor,
                "paid_minor": paid_total,
                "recovery": _ratio(paid_total, placed_minor),
                "liquidation": _ratio(paid_now, outstanding_before.get((cohort, currency), 0)),
            }
        )
    return rows


def roll_matrix(window: RollupWindow, arms: Collection[str]) -> list[dict[str, Any]]:
    """From-bucket x to-bucket over the range, each row as shares of the accounts that started in its bucket."""
    from overdue.domain.buckets import LABELS

    counts = _pick(window.flows, "roll", arms)
    order = [LABELS[code] for code in sorted(LABELS)]
    totals: Counter[str] = Counter()
    for (before, _), (count, _) in counts.items():
        totals[before] += count
    return [
        {"from": before, "to": after, "accounts": count, "share": _ratio(count, totals[before])}
        for before in order
        for after in order
        if (count := counts.get((before, after), (0, 0))[0])
    ]


def rates(window: RollupWindow, arms: Collection[str]) -> dict[str, Any]:
    """Cure and self-cure, promises kept, right-party contact, disputes and complaints (per 1,000 active
    accounts at the end of the range)."""
    cure = _pick(window.flows, "cure", arms)
    ptp = _pick(window.flows, "ptp", arms)
    contact = _pick(window.flows, "contact", arms)
    holds = _pick(window.flows, "holds", arms)
    stages = _pick(window.at_end, "stage", arms)
    active = sum(count for (stage, _), (count, _) in stages.items() if stage != "closed")
    cured, self_cured = cure.get(("cured", ""), (0, 0))[0], cure.get(("self_cured", ""), (0, 0))[0]
    rolls = _pick(window.flows, "roll", arms)
    delinquent_days = sum(count for (before, _), (count, _) in rolls.items() if before not in ("current", "closed"))
    ended, kept = ptp.get(("ended", ""), (0, 0))[0], ptp.get(("kept", ""), (0, 0))[0]
    attempts, rpc = contact.get(("attempts", ""), (0, 0))[0], contact.get(("rpc", ""), (0, 0))[0]
    disputes = holds.get(("dispute", ""), (0, 0))[0]
    complaints = holds.get(("complaint", ""), (0, 0))[0]
    return {
        "cured": cured,
        # cures over the average number of past-due accounts on a day of the range
        "cure_rate": _ratio(cured * window.days, delinquent_days),
        "self_cured": self_cured,
        "self_cure_share": _ratio(self_cured, cured),
        "promises_ended": ended,
        "promises_kept": kept,
        "ptp_kept_rate": _ratio(kept, ended),
        "call_attempts": attempts,
        "right_party_contacts": rpc,
        "rpc_rate": _ratio(rpc, attempts),
        "disputes": disputes,
        "complaints": complaints,
        "active_accounts": active,
        "disputes_per_1000": _ratio(disputes * 1000, active),
        "complaints_per_1000": _ratio(complaints * 1000, active),
    }


def channels(window: RollupWindow, arms: Collection[str]) -> list[dict[str, Any]]:
    figures = _pick(window.flows, "channel", arms)
    rows = []
    for name in sorted({channel for channel, _ in figures}):
        sent = figures.get((name, "sent"), (0, 0))[0]
        delivered = figures.get((name, "delivered"), (0, 0))[0]
        paid = figures.get((name, "paid_7d"), (0, 0))[0]
        rows.append(
            {
                "channel": name,
                "sent": sent,
                "delivered": _ratio(delivered, sent),
                "paid_7d": _ratio(paid, sent),
            }
        )
    return rows


def approvals(window: RollupWindow, arms: Collection[str]) -> list[dict[str, Any]]:
    """The backlog at the end of the range and the decisions made in it, per task kind."""
    backlog = _pick(window.at_end, "tasks", arms)
    decided = _pick(window.flows, "tasks", arms)
    kinds = sorted({kind for kind, _ in backlog} | {kind for kind, _ in decided})
    return [
        {
            "kind": kind,
            "open": backlog.get((kind, "open"), (0, 0))[0],
            "past_sla": backlog.get((kind, "past_sla"), (0, 0))[0],
            "decided": decided.get((kind, "decided"), (0, 0))[0],
            "in_sla": _ratio(
                decided.get((kind, "decided_in_sla"), (0, 0))[0], decided.get((kind, "decided"), (0, 0))[0]
            ),
        }
        for kind in kinds
    ]


def arms_compared(window: RollupWindow) -> list[dict[str, Any]]:
    """Champion against challengers, one row per arm: accounts and the share closed at the end of the range,
    contacts per account, cures and promises kept in it. Recovery is per currency: `arms_recovery`."""
    rows = []
    for arm in window.arms:
        chosen = {arm}
        stages = _pick(window.at_end, "stage", chosen)
        accounts = sum(count for (count, _) in stages.values())
        sent = sum(count for (_, kind), (count, _) in _pick(window.flows, "channel", chosen).items() if kind == "sent")
        rate = rates(window, chosen)
        rows.append(
            {
                "arm": arm,
                "accounts": accounts,
                "closed": _ratio(stages.get(("closed", ""), (0, 0))[0], accounts),
                "contacts_per_account": _ratio(sent, accounts),
                "cured": rate["cured"],
                "ptp_kept_rate": rate["ptp_kept_rate"],
            }
        )
    return rows


def arms_recovery(window: RollupWindow) -> list[dict[str, Any]]:
    """Per arm and currency: placed, paid to date and recovery (money is never added across currencies)."""
    rows = []
    for arm in window.arms:
        for total in _per_currency(cohorts(window, {arm})):
            rows.append(total | {"arm": arm, "recovery": _ratio(total["paid_minor"], total["placed_minor"])})
    return rows


def _per_currency(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    totals: dict[str, dict[str, Any]] = {}
    for row in rows:
        total = totals.setdefault(row["currency"], {"currency": row["currency"], "paid_minor": 0, "placed_minor": 0})
        total["paid_minor"] += row["paid_minor"]
        total["placed_minor"] += row["placed_minor"]
    return [totals[currency] for currency in sorted(totals)]
