"""The daily cycle's steps, each over one shard of accounts (an id range) in one transaction.

Rules live in `overdue.domain`; these functions load facts in bulk, ask the domain, and write the
changes back set-wise with their audit events. Prefect flows only sequence them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from overdue.config import Configuration
from overdue.config.models import Escalation
from overdue.domain import stages
from overdue.domain.escalation import approvals_needed, escalation_rule, is_time_barred, time_barred_on
from overdue.domain.offers import propose_installment_plan
from overdue.domain.plans import BROKEN, KEPT, InstallmentState, plan_status
from overdue.domain.stages import AccountFacts, classify, days_past_due
from overdue.services.audit import SYSTEM, audit_row, record_many, stage_changed
from overdue.services.outreach import active_hold, cancel_queued
from overdue.store.bulk import insert_returning_ids, update_by_id
from overdue.store.tables import Account, Customer, HumanTask, Installment, LegalCase, Offer, PaymentPlan

LEGAL_ESCALATION = "legal_escalation"
BALANCE = col(Account.principal_minor) + col(Account.interest_minor) + col(Account.fees_minor)


@dataclass
class StageChanges:
    evaluated: int = 0
    transitions: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def as_dict(self) -> dict[str, Any]:
        return {"evaluated": self.evaluated, "transitions": dict(self.transitions)}


def _has_active_plan() -> sa.ColumnElement[bool]:
    return sa.exists().where(col(PaymentPlan.account_id) == col(Account.id), col(PaymentPlan.status) == "active")


def classify_accounts(
    session: Session, config: Configuration, as_of: date, now: datetime, shard: tuple[int, int]
) -> StageChanges:
    """Age every open account to `as_of` and move it to the stage the strategy says."""
    result = StageChanges()
    rows = session.execute(
        sa.select(
            col(Account.id),
            col(Account.stage),
            col(Account.due_date),
            BALANCE,
            col(Account.currency),
            col(Account.broken_plans),
            _has_active_plan(),
            col(Account.strategy_arm),
        ).where(col(Account.id).between(*shard), col(Account.stage) != stages.CLOSED)
    ).all()
    updates: list[dict[str, Any]] = []
    audits: list[dict[str, Any]] = []
    for account_id, stage, due_date, balance, currency, broken, has_plan, arm in rows:
        dpd = days_past_due(due_date, as_of)
        facts = AccountFacts(stage, dpd, balance, currency, broken, bool(has_plan))
        new_stage = classify(facts, config.strategy_for(arm))
        result.evaluated += 1
        if new_stage != stage:
            result.transitions[f"{stage}->{new_stage}"] += 1
            updates.append({"id": account_id, "stage": new_stage, "stage_entered_on": as_of, "next_action_on": as_of})
            audits += stage_changed(SYSTEM, now, account_id, stage, new_stage, dpd=dpd)
            if new_stage in (stages.CLOSED, stages.CURRENT):
                cancel_queued(session, account_id, f"account is {new_stage}", SYSTEM, now)
    _age_accounts(session, as_of, shard)
    update_by_id(session, Account, updates)
    record_many(session, audits)
    return result


def _age_accounts(session: Session, as_of: date, shard: tuple[int, int]) -> None:
    """Every open account a day older, in one set-based statement: shipping a million changed rows back to
    the database would cost more than the whole classification."""
    days: sa.ColumnElement[Any]
    if session.get_bind().dialect.name == "postgresql":
        days = sa.literal(as_of, sa.Date) - col(Account.due_date)
    else:
        span = sa.func.julianday(sa.literal(as_of.isoformat())) - sa.func.julianday(col(Account.due_date))
        days = sa.cast(span, sa.Integer())
    session.execute(
        sa.update(Account)
        .where(col(Account.id).between(*shard), col(Account.stage) != stages.CLOSED, col(Account.dpd) != days)
        .values(dpd=days)
        .execution_options(synchronize_session=False)
    )


@dataclass
class PlanResults:
    checked: int = 0
    kept: int = 0
    broken: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"checked": self.checked, "kept": self.kept, "broken": self.broken}


def monitor_plans(
    session: Session, config: Configuration, as_of: date, now: datetime, shard: tuple[int, int]
) -> PlanResults:
    """Judge every active plan: paid in full is kept; an installment unpaid past grace breaks it."""
    results = PlanResults()
    plans = session.scalars(
        sa.select(PaymentPlan).where(
            col(PaymentPlan.status) == "active",
            col(PaymentPlan.account_id).between(*shard),
        )
    ).all()
    if not plans:
        return results
    schedule: dict[int, list[InstallmentState]] = defaultdict(list)
    for item in session.scalars(sa.select(Installment).where(col(Installment.plan_id).in_([p.id for p in plans]))):
        schedule[item.plan_id].append(InstallmentState(item.seq, item.due_date, item.amount_minor, item.paid_minor))
    audits: list[dict[str, Any]] = []
    for plan in plans:
        results.checked += 1
        status = plan_status(schedule[plan.id], as_of, plan.grace_days)  # type: ignore[index]
        if status == KEPT:
            results.kept += 1
        elif status == BROKEN:
            results.broken += 1
            session.execute(
                sa.update(Account)
                .where(col(Account.id) == plan.account_id)
                .values(broken_plans=col(Account.broken_plans) + 1)
            )
        else:
            continue
        plan.status, plan.ended_on = status, as_of
        session.add(plan)
        audits.append(audit_row(f"plan.{status}", SYSTEM, now, plan.account_id, plan_id=plan.id))
    record_many(session, audits)
    return results


@dataclass
class OfferResults:
    made: int = 0
    expired: int = 0
    not_applicable: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"made": self.made, "expired": self.expired, "not_applicable": self.not_applicable}


def make_offers(
    session: Session, config: Configuration, as_of: date, now: datetime, shard: tuple[int, int]
) -> OfferResults:
    """Lapse stale offers, then offer an installment plan within bounds to every negotiation account
    that has no open offer."""
    results = OfferResults()
    in_shard = col(Offer.account_id).between(*shard)
    expired = session.execute(
        sa.select(col(Offer.id), col(Offer.account_id)).where(
            in_shard, col(Offer.status) == "open", col(Offer.expires_on) < as_of
        )
    ).all()
    if expired:
        offer_ids = [offer_id for offer_id, _ in expired]
        session.execute(sa.update(Offer).where(col(Offer.id).in_(offer_ids)).values(status="expired"))
        record_many(
            session, (audit_row("offer.expired", SYSTEM, now, account, offer_id=offer) for offer, account in expired)
        )
        results.expired = len(expired)
    open_offer = sa.exists().where(col(Offer.account_id) == col(Account.id), col(Offer.status) == "open")
    rows = session.execute(
        sa.select(col(Account.id), BALANCE, col(Account.currency), col(Customer.jurisdiction))
        .join(Customer, col(Customer.id) == col(Account.customer_id))
        .where(
            col(Account.id).between(*shard),
            col(Account.stage) == stages.NEGOTIATION,
            ~open_offer,
            ~active_hold(as_of),
        )
    ).all()
    proposed: list[tuple[int, Any]] = []
    for account_id, balance, currency, jurisdiction in rows:
        bounds = config.offers.installment.for_jurisdiction(jurisdiction)
        offer = propose_installment_plan(balance, currency, bounds, as_of)
        if offer is None:
            results.not_applicable += 1
        else:
            proposed.append((account_id, offer))
    ids = insert_returning_ids(
        session,
        Offer,
        [
            {
                "account_id": account_id,
                "kind": "installment",
                "status": "open",
                "total_minor": offer.total_minor,
                "installments": offer.installments,
                "first_due_date": offer.first_due_date,
                "created_on": as_of,
                "expires_on": offer.expires_on,
            }
            for account_id, offer in proposed
        ],
    )
    record_many(
        session,
        (
            audit_row(
                "offer.made",
                SYSTEM,
                now,
                account_id,
                offer_id=offer_id,
                installments=offer.installments,
                total_minor=offer.total_minor,
            )
            for offer_id, (account_id, offer) in zip(ids, proposed, strict=True)
        ),
    )
    results.made = len(proposed)
    return results


def propose_escalations(
    session: Session, config: Configuration, as_of: date, now: datetime, shard: tuple[int, int]
) -> int:
    """Open a legal-approval task for each account its strategy's escalation rules select (one query per
    strategy arm, each with its own cool-off). Never escalates itself."""
    tasks: list[dict[str, Any]] = []
    for arm, strategy in config.strategies.items():
        tasks += _escalation_tasks(session, config, arm, strategy.escalation, as_of, now, shard)
    if tasks:
        session.execute(sa.insert(HumanTask), tasks)
        record_many(
            session,
            (
                audit_row(
                    "task.created", SYSTEM, now, t["account_id"], task_kind=LEGAL_ESCALATION, rule=t["payload"]["rule"]
                )
                for t in tasks
            ),
        )
    return len(tasks)


def _escalation_tasks(
    session: Session,
    config: Configuration,
    arm: str,
    escalation: Escalation,
    as_of: date,
    now: datetime,
    shard: tuple[int, int],
) -> list[dict[str, Any]]:
    cooldown_start = now - timedelta(days=escalation.review_cooldown_days)
    recent_or_open_task = sa.exists().where(
        col(HumanTask.account_id) == col(Account.id),
        col(HumanTask.kind) == LEGAL_ESCALATION,
        sa.or_(col(HumanTask.status) == "open", col(HumanTask.decided_at) >= cooldown_start),
    )
    has_case = sa.exists().where(col(LegalCase.account_id) == col(Account.id))
    rows = session.execute(
        sa.select(
            col(Account.id),
            col(Account.stage),
            col(Account.dpd),
            BALANCE,
            col(Account.currency),
            col(Account.broken_plans),
            col(Account.due_date),
            col(Customer.jurisdiction),
            col(Customer.vulnerability),
            col(Customer.vulnerability_reviewed_on),
        )
        .join(Customer, col(Customer.id) == col(Account.customer_id))
        .where(
            col(Account.id).between(*shard),
            col(Account.strategy_arm) == arm,
            col(Account.stage).in_(stages.ESCALABLE),
            ~recent_or_open_task,
            ~has_case,
            ~active_hold(as_of),
        )
    ).all()
    approval = config.tasks.kind(LEGAL_ESCALATION)
    tasks: list[dict[str, Any]] = []
    for account_id, stage, dpd, balance, currency, broken, due_date, jurisdiction, vulnerable, reviewed in rows:
        rule = escalation_rule(AccountFacts(stage, dpd, balance, currency, broken), escalation)
        time_bar = config.policy(jurisdiction).time_bar
        if rule is None or is_time_barred(due_date, as_of, time_bar.years):
            continue
        if escalation.vulnerable_reviewed_first and vulnerable and reviewed is None:
            continue  # a specialist looks at a vulnerable customer's case before anyone considers suing
        tasks.append(
            {
                "kind": LEGAL_ESCALATION,
                "account_id": account_id,
                "payload": {
                    "rule": rule,
                    "dpd": dpd,
                    "balance_minor": balance,
                    "currency": currency,
                    "broken_plans": broken,
                    "time_barred_on": time_barred_on(due_date, time_bar.years).isoformat(),
                    "time_bar_rule": time_bar.id,
                    "strategy": arm,
                    "approvals_needed": approvals_needed(escalation, balance, currency),
                },
                "role_needed": approval.role,
                "requested_by": SYSTEM,
                "due_at": now + timedelta(hours=approval.sla_hours),
                "status": "open",
                "version": 0,
                "created_at": now,
            }
        )
    return tasks
