"""The daily cycle's steps, each over one shard of accounts (an id range) in one transaction.

Rules live in `overdue.domain`; these functions load facts in bulk, ask the domain, and write the
changes back set-wise with their audit events. Prefect flows only sequence them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from overdue.config import Configuration
from overdue.config.models import Escalation
from overdue.domain import stages
from overdue.domain.escalation import approvals_needed, escalation_rule, is_time_barred, time_barred_on
from overdue.domain.stages import AccountFacts, classify, days_past_due, moved_back
from overdue.domain.tasks import PENDING
from overdue.services.audit import SYSTEM, audit_row, record_many, stage_changed
from overdue.services.condition_facts import ConditionFacts, load_condition_facts
from overdue.services.condition_sql import BALANCE, any_condition
from overdue.services.outreach import cancel_queued
from overdue.store.bulk import update_by_id
from overdue.store.tables import Account, Customer, Hold, HumanTask, LegalCase, PaymentPlan

LEGAL_ESCALATION = "legal_escalation"


@dataclass
class StageChanges:
    evaluated: int = 0
    transitions: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def as_dict(self) -> dict[str, Any]:
        return {"evaluated": self.evaluated, "transitions": dict(self.transitions)}


def accounts_in_shard(
    session: Session, account_column: Any, shard: tuple[int, int], *conditions: sa.ColumnElement[bool]
) -> set[int]:
    """The shard's accounts that have a row matching `conditions` in another table (an active plan, an open
    offer, a hold...), by one range scan of that table's account index. A correlated NOT EXISTS says the same,
    but its plan hangs on statistics that a cycle makes stale as it goes (a table that was empty this morning),
    and the wrong plan compares every account with every row: seconds per shard instead of milliseconds."""
    query = sa.select(account_column).where(account_column.between(*shard), *conditions).distinct()
    return set(session.scalars(query))


def active_plans(session: Session, shard: tuple[int, int]) -> set[int]:
    return accounts_in_shard(session, col(PaymentPlan.account_id), shard, col(PaymentPlan.status) == "active")


def held(session: Session, shard: tuple[int, int], as_of: date) -> set[int]:
    """Accounts with a hold in force on `as_of`."""
    return accounts_in_shard(
        session,
        col(Hold.account_id),
        shard,
        col(Hold.starts_on) <= as_of,
        sa.or_(col(Hold.ends_on).is_(None), col(Hold.ends_on) >= as_of),
    )


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
            col(Account.strategy_arm),
        )
        .where(col(Account.id).between(*shard), col(Account.stage) != stages.CLOSED)
        .order_by(col(Account.id))
    ).all()
    on_plan = active_plans(session, shard)
    updates: list[dict[str, Any]] = []
    audits: list[dict[str, Any]] = []
    extra = load_condition_facts(session, config, as_of, shard)
    for account_id, stage, due_date, balance, currency, broken, arm in rows:
        dpd = days_past_due(due_date, as_of)
        if account_id in extra.pauses:
            if extra.paused_on(account_id, as_of):
                continue  # a paused account keeps its stage (overdue/domain/pauses.py)
            dpd = extra.dpd(account_id, dpd, due_date, as_of)
        facts = AccountFacts(stage, dpd, balance, currency, broken, account_id in on_plan, extra.flags_of(account_id))
        strategy = config.strategy_for(arm)
        new_stage = classify(facts, strategy)
        result.evaluated += 1
        if new_stage != stage:
            result.transitions[f"{stage}->{new_stage}"] += 1
            anchor_on = as_of if moved_back(strategy, stage, new_stage) else None  # overdue/services/reanchor.py
            moved = {"stage": new_stage, "stage_entered_on": as_of, "next_action_on": as_of, "anchor_on": anchor_on}
            updates.append({"id": account_id, **moved})
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


def propose_escalations(
    session: Session, config: Configuration, as_of: date, now: datetime, shard: tuple[int, int]
) -> int:
    """Open a legal-approval task for each account its strategy's escalation rules select (one query per
    strategy arm, each with its own cool-off). Never escalates itself."""
    tasks: list[dict[str, Any]] = []
    extra = cache(lambda: load_condition_facts(session, config, as_of, shard))  # only for a shard with candidates
    for arm, strategy in config.strategies.items():
        tasks += _escalation_tasks(session, config, arm, strategy.escalation, as_of, now, shard, extra)
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
    condition_facts: Callable[[], ConditionFacts],
) -> list[dict[str, Any]]:
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
            # the few accounts a rule could select (most of a shard is far from any), asked about one by one below
            any_condition([rule.when for rule in escalation.rules], col(Account.dpd), dpd_upper_bound=False),
        )
        .order_by(col(Account.id))
    ).all()
    if not rows:
        return []
    cooldown_start = now - timedelta(days=escalation.review_cooldown_days)
    recent_or_open_task = accounts_in_shard(
        session,
        col(HumanTask.account_id),
        shard,
        col(HumanTask.kind) == LEGAL_ESCALATION,
        sa.or_(col(HumanTask.status).in_(PENDING), col(HumanTask.decided_at) >= cooldown_start),
    )
    skip = (
        recent_or_open_task | accounts_in_shard(session, col(LegalCase.account_id), shard) | held(session, shard, as_of)
    )
    extra = condition_facts()
    approval = config.tasks.kind(LEGAL_ESCALATION)
    tasks: list[dict[str, Any]] = []
    for account_id, stage, dpd, balance, currency, broken, due_date, jurisdiction, vulnerable, reviewed in rows:
        if account_id in skip:
            continue
        dpd = extra.dpd(account_id, dpd, due_date, as_of)  # paused days do not count
        facts = AccountFacts(stage, dpd, balance, currency, broken, flags=extra.flags_of(account_id))
        rule = escalation_rule(facts, escalation)
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
