"""Plans and promises to pay, monitored to the day.

A promise to pay (an amount by a date) is a plan of kind `promise` with one installment, so it is judged,
reminded and counted exactly like a plan; a broken promise does not use up a re-negotiation, and an agent is
asked to call the customer (an `agent_call` task, one pending per account). A kept plan
ends as its offer said: `cure` (closed when nothing is owed, otherwise back to current with the rest due as
a normal bill), `settle` (the rest written off, closed as settled) or `review` (a fresh offer follows).
A broken plan counts against the re-negotiations the policy allows (configs/offers.yaml `renegotiations`);
once they are used up no automatic offer is made and the strategy proposes legal review to a person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from overdue.config import Configuration
from overdue.domain import stages
from overdue.domain.plans import BROKEN, KEPT, PROMISE, plan_status
from overdue.services.audit import SYSTEM, audit_row, record, record_many, stage_changed
from overdue.services.call_backs import open_call_backs
from overdue.services.condition_facts import load_condition_facts
from overdue.services.decisions import withdraw_open_escalations
from overdue.services.offers import OfferError, offer_policy, start_plan
from overdue.services.outreach import cancel_queued
from overdue.store.tables import Account, Customer, Installment, PaymentPlan

PROMISE_SOURCES = ("agent", "sms", "email", "self_service")
EARLIEST_UNPAID = (
    sa.select(sa.func.min(col(Installment.due_date)))
    .where(col(Installment.plan_id) == col(PaymentPlan.id), col(Installment.paid_minor) < col(Installment.amount_minor))
    .scalar_subquery()
)


@dataclass
class PlanResults:
    checked: int = 0
    kept: int = 0
    broken: int = 0
    promises_kept: int = 0
    promises_broken: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "checked": self.checked,
            "kept": self.kept,
            "broken": self.broken,
            "promises_kept": self.promises_kept,
            "promises_broken": self.promises_broken,
        }


def monitor_plans(
    session: Session, config: Configuration, as_of: date, now: datetime, shard: tuple[int, int]
) -> PlanResults:
    """Judge every active plan and promise: paid in full is kept; an installment unpaid past grace breaks it.
    One row per active plan (its oldest unpaid due date, found by the database); only the plans judged kept or
    broken today are loaded as entities."""
    results = PlanResults()
    active = session.execute(
        sa.select(col(PaymentPlan.id), col(PaymentPlan.account_id), col(PaymentPlan.grace_days), EARLIEST_UNPAID)
        .where(col(PaymentPlan.status) == "active", col(PaymentPlan.account_id).between(*shard))
        .order_by(col(PaymentPlan.account_id), col(PaymentPlan.id))  # judged, and audited, in account order
    ).all()
    if not active:
        return results
    extra = load_condition_facts(session, config, as_of, shard, with_flags=False)
    verdicts: dict[int, str] = {}
    for plan_id, account_id, grace_days, earliest_unpaid in active:
        if extra.paused_on(account_id, as_of):
            continue  # judged after the pause
        results.checked += 1
        status = plan_status(earliest_unpaid, as_of, grace_days)
        if status in (KEPT, BROKEN):
            verdicts[plan_id] = status
    plans = session.scalars(
        sa.select(PaymentPlan)
        .where(col(PaymentPlan.id).in_(list(verdicts)))
        .order_by(col(PaymentPlan.account_id), col(PaymentPlan.id))
    ).all()
    audits: list[dict[str, Any]] = []
    kept: list[PaymentPlan] = []
    call_backs: dict[int, dict[str, Any]] = {}
    broken_plan_accounts: list[int] = []
    for plan in plans:
        status = verdicts[plan.id]  # type: ignore[index]
        promise = plan.kind == PROMISE
        if status == KEPT:
            results.kept += not promise
            results.promises_kept += promise
        else:
            results.broken += not promise
            results.promises_broken += promise
        plan.status, plan.ended_on = status, as_of
        session.add(plan)
        audits.append(audit_row(f"plan.{status}", SYSTEM, now, plan.account_id, plan_id=plan.id, plan_kind=plan.kind))
        if status == BROKEN and not promise:
            broken_plan_accounts.append(plan.account_id)
        elif status == KEPT:
            kept.append(plan)
        else:
            call_backs[plan.account_id] = {"reason": "broken promise to pay", "plan_id": plan.id}
    if broken_plan_accounts:  # an account has one active plan at a time: one more broken plan each
        session.execute(
            sa.update(Account)
            .where(col(Account.id).in_(broken_plan_accounts))
            .values(broken_plans=col(Account.broken_plans) + 1)
        )
    record_many(session, audits)
    open_call_backs(session, config.tasks, call_backs, SYSTEM, now)
    for plan in kept:
        conclude_kept(session, config, plan, as_of, now)
    return results


def conclude_kept(session: Session, config: Configuration, plan: PaymentPlan, as_of: date, now: datetime) -> None:
    """What a kept plan does to the account (a plan paid off by a payment closed it already)."""
    account = session.get(Account, plan.account_id, with_for_update=True)
    assert account is not None
    assert account.id is not None
    if account.stage == stages.CLOSED or plan.on_kept == "review":
        return
    previous = account.stage
    if account.balance_minor > 0 and plan.on_kept == "settle":
        written_off = {
            "principal": account.principal_minor,
            "interest": account.interest_minor,
            "fees": account.fees_minor,
        }
        account.principal_minor = account.interest_minor = account.fees_minor = 0
        record(session, "account.settled", SYSTEM, now, account.id, plan_id=plan.id, written_off=written_off)
    if account.balance_minor == 0:
        account.stage, account.next_action_on = stages.CLOSED, None
        cancel_queued(session, account.id, "settled", SYSTEM, now)
        withdraw_open_escalations(session, account.id, "settled", SYSTEM, now)
    else:
        customer = session.get(Customer, account.customer_id)
        assert customer is not None
        policy = offer_policy(config, customer, account)
        account.due_date = as_of + timedelta(days=policy.cure_due_after_days)
        account.stage, account.next_action_on = stages.CURRENT, as_of
        record(
            session,
            "account.cured",
            SYSTEM,
            now,
            account.id,
            plan_id=plan.id,
            balance_minor=account.balance_minor,
            due_date=account.due_date.isoformat(),
        )
    account.stage_entered_on = as_of
    account.version += 1
    session.add(account)
    record_many(session, stage_changed(SYSTEM, now, account.id, previous, account.stage, plan_id=plan.id))


def make_promise(
    session: Session,
    config: Configuration,
    account_id: int,
    amount_minor: int,
    on: date,
    source: str,
    actor: str,
    now: datetime,
    today: date | None = None,
) -> PaymentPlan:
    """A promise to pay `amount_minor` by `on` (the customer's date, not moved: they chose it). `today` is the
    customer's local date (default: the UTC date of `now`)."""
    today = today or now.date()
    if source not in PROMISE_SOURCES:
        raise OfferError(f"unknown source '{source}' (one of {', '.join(PROMISE_SOURCES)})")
    account = session.get(Account, account_id)
    if account is None:
        raise OfferError(f"account {account_id} does not exist")
    assert account.id is not None
    if account.stage in (stages.CLOSED, stages.LEGAL):
        raise OfferError(f"account {account_id} is {account.stage}; a promise cannot be taken")
    active = session.scalar(
        sa.select(col(PaymentPlan.kind)).where(
            col(PaymentPlan.account_id) == account_id, col(PaymentPlan.status) == "active"
        )
    )
    if active is not None:
        raise OfferError(f"account {account_id} already has an active {active}; its next installment is the promise")
    customer = session.get(Customer, account.customer_id)
    assert customer is not None
    policy = offer_policy(config, customer, account)
    if not 0 < amount_minor <= account.balance_minor:
        raise OfferError(f"a promise is for more than nothing and at most the balance ({account.balance_minor})")
    if not today <= on <= today + timedelta(days=policy.promise_max_days):
        raise OfferError(f"a promise is dated from today to {policy.promise_max_days} days ahead; offer a plan instead")
    plan = PaymentPlan(
        account_id=account.id,
        total_minor=amount_minor,
        grace_days=policy.promise_grace_days,
        created_on=today,
        kind=PROMISE,
        on_kept="review",
        created_by=actor,
    )
    session.add(plan)
    session.flush()
    session.add(Installment(plan_id=plan.id, seq=1, due_date=on, amount_minor=amount_minor))  # type: ignore[arg-type]
    record(
        session,
        "promise.made",
        actor,
        now,
        account.id,
        plan_id=plan.id,
        amount_minor=amount_minor,
        on=on.isoformat(),
        source=source,
    )
    start_plan(session, account, plan, 1, actor, today, now, "a promise to pay was made")
    return plan
