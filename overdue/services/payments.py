"""Record payments and apply them at once: allocation by the jurisdiction's order, the active plan's
installments, and an account paid in full closes with its queued reminders cancelled on the spot."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Session, col

from overdue.config import Configuration
from overdue.domain import stages
from overdue.domain.allocation import allocate
from overdue.domain.plans import InstallmentState, apply_to_installments
from overdue.services.audit import record, record_many, stage_changed
from overdue.services.decisions import withdraw_open_escalations
from overdue.services.outreach import cancel_queued
from overdue.services.reanchor import reanchor_after_payment
from overdue.store.bulk import chunked
from overdue.store.tables import Account, Customer, Installment, Payment, PaymentPlan


@dataclass(frozen=True)
class PaymentIn:
    payment_ref: str
    account_id: int
    amount_minor: int
    currency: str
    received_on: date
    source: str


@dataclass
class PaymentResults:
    recorded: int = 0
    duplicates: int = 0
    amount_minor: int = 0
    closed_accounts: int = 0


class PaymentError(ValueError):
    pass


def record_payments(
    session: Session, config: Configuration, payments: Sequence[PaymentIn], actor: str, now: datetime
) -> PaymentResults:
    """Idempotent by payment reference: one already recorded is counted as a duplicate and left alone."""
    results = PaymentResults()
    known: set[str] = set()
    for refs in chunked([p.payment_ref for p in payments], 1000):
        known.update(session.scalars(sa.select(col(Payment.payment_ref)).where(col(Payment.payment_ref).in_(refs))))
    for payment in payments:
        if payment.payment_ref in known:
            results.duplicates += 1
            continue
        known.add(payment.payment_ref)
        closed = _apply(session, config, payment, actor, now)
        results.recorded += 1
        results.amount_minor += payment.amount_minor
        results.closed_accounts += int(closed)
    return results


def _apply(session: Session, config: Configuration, payment: PaymentIn, actor: str, now: datetime) -> bool:
    if payment.amount_minor <= 0:
        raise PaymentError(f"payment {payment.payment_ref}: amount must be positive")
    account = session.get(Account, payment.account_id, with_for_update=True)
    if account is None:
        raise PaymentError(f"payment {payment.payment_ref}: account {payment.account_id} does not exist")
    if account.currency != payment.currency:
        raise PaymentError(
            f"payment {payment.payment_ref}: currency {payment.currency} but account is in {account.currency}"
        )
    customer = session.get(Customer, account.customer_id)
    assert customer is not None
    owed = {"fees": account.fees_minor, "interest": account.interest_minor, "principal": account.principal_minor}
    split = allocate(payment.amount_minor, owed, config.policy(customer.jurisdiction).allocation)
    account.fees_minor -= split.parts["fees"]
    account.interest_minor -= split.parts["interest"]
    account.principal_minor -= split.parts["principal"]
    account.version += 1
    session.add(
        Payment(
            payment_ref=payment.payment_ref,
            account_id=payment.account_id,
            amount_minor=payment.amount_minor,
            currency=payment.currency,
            received_on=payment.received_on,
            source=payment.source,
            to_fees_minor=split.parts["fees"],
            to_interest_minor=split.parts["interest"],
            to_principal_minor=split.parts["principal"],
            unapplied_minor=split.unapplied_minor,
            created_at=now,
        )
    )
    record(
        session,
        "payment.received",
        actor,
        now,
        account.id,
        ref=payment.payment_ref,
        amount_minor=payment.amount_minor,
        **split.parts,
    )
    _apply_to_plan(session, account, payment.amount_minor)
    closed = account.balance_minor == 0 and account.stage != stages.CLOSED  # a late overpayment only adds credit
    if closed:
        previous = account.stage
        account.stage, account.stage_entered_on, account.next_action_on = stages.CLOSED, payment.received_on, None
        record_many(session, stage_changed(actor, now, account.id, previous, stages.CLOSED))  # type: ignore[arg-type]
        cancel_queued(session, account.id, "paid in full", actor, now)  # type: ignore[arg-type]
        _close_plan_as_kept(session, account.id, payment.received_on, actor, now)  # type: ignore[arg-type]
        withdraw_open_escalations(session, account.id, "paid in full", actor, now)  # type: ignore[arg-type]
    elif account.stage == stages.PLAN:
        account.next_action_on = payment.received_on  # re-anchor the plan cadence on the next unpaid installment
    reanchor_after_payment(session, config, account, payment.received_on, actor, now)  # type: ignore[arg-type]
    session.add(account)
    session.flush()
    return closed


def _apply_to_plan(session: Session, account: Account, amount_minor: int) -> None:
    plan_id = session.scalar(
        sa.select(col(PaymentPlan.id)).where(
            col(PaymentPlan.account_id) == account.id, col(PaymentPlan.status) == "active"
        )
    )
    if plan_id is None:
        return
    rows = session.scalars(
        sa.select(Installment).where(col(Installment.plan_id) == plan_id).order_by(col(Installment.seq))
    ).all()
    states = [InstallmentState(r.seq, r.due_date, r.amount_minor, r.paid_minor) for r in rows]
    for row, state in zip(rows, apply_to_installments(states, amount_minor), strict=True):
        if row.paid_minor != state.paid_minor:
            row.paid_minor = state.paid_minor
            session.add(row)


def _close_plan_as_kept(session: Session, account_id: int, day: date, actor: str, now: datetime) -> None:
    """Paid in full means the plan is kept today, not at the next cycle."""
    active = sa.select(PaymentPlan).where(
        col(PaymentPlan.account_id) == account_id, col(PaymentPlan.status) == "active"
    )
    plan = session.scalars(active).first()
    if plan is not None:
        plan.status, plan.ended_on = "kept", day
        session.add(plan)
        record(session, "plan.kept", actor, now, account_id, plan_id=plan.id)
