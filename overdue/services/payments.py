"""Record payments and apply them at once, and undo them exactly when they are reversed or charged back.

A payment is split across fees, interest and principal in the order the customer's jurisdiction prescribes for
the account's product and days past due; what is left is the customer's credit. It pays the active plan's
installments oldest first, and an account paid in full closes with its queued reminders cancelled on the spot;
a partial payment cancels the queued reminders whose installment it has paid. A reversal or chargeback puts
back exactly what its payment took: the balance, the credit, the installments (a kept plan becomes active
again), and a closed account re-opens in the stage its facts now call for. All of it is audited, and a
payment or a reversal recorded twice (same reference) changes nothing the second time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from overdue.config import Configuration
from overdue.domain import guard, stages
from overdue.domain.allocation import Allocation, Balances
from overdue.domain.plans import InstallmentState, apply_to_installments
from overdue.domain.stages import AccountFacts, classify, days_past_due
from overdue.domain.tasks import PENDING
from overdue.services.audit import held_back, record, record_many, stage_changed
from overdue.services.cycle import LEGAL_ESCALATION
from overdue.services.decisions import withdraw_open_escalations
from overdue.services.outreach import anchor_of, cancel_queued
from overdue.services.plans import conclude_kept
from overdue.services.reanchor import reanchor_after_payment
from overdue.store.bulk import chunked, insert_returning_ids, insert_rows
from overdue.store.tables import (
    Account,
    Customer,
    HumanTask,
    Installment,
    InstallmentAllocation,
    LegalCase,
    OutreachMessage,
    Payment,
    PaymentPlan,
)

PAYMENT = "payment"
REVERSALS = ("reversal", "chargeback")
KINDS = (PAYMENT, *REVERSALS)


@dataclass(frozen=True)
class PaymentIn:
    """A payment as reported, or (kind reversal / chargeback) the return of the payment named by `reverses`,
    with the same positive amount as that payment."""

    payment_ref: str
    account_id: int
    amount_minor: int
    currency: str
    received_on: date
    source: str
    kind: str = PAYMENT
    reverses: str | None = None


@dataclass
class PaymentResults:
    recorded: int = 0
    duplicates: int = 0
    amount_minor: int = 0
    closed_accounts: int = 0
    reversed: int = 0
    reopened_accounts: int = 0


class PaymentError(ValueError):
    pass


def record_payments(
    session: Session, config: Configuration, payments: Sequence[PaymentIn], actor: str, now: datetime
) -> PaymentResults:
    """Idempotent by payment reference: one already recorded is counted as a duplicate and left alone.

    The accounts, jurisdictions and active plans the batch pays are read in one go, and a payment's own changes
    are written when the batch ends rather than flushed before each statement of the next, as are the payment
    rows, what they gave each installment and their audit events (`held_back`): a simulated day's thousands
    of payments cost a few statements each. Each is applied in turn all the same, so two payments to one
    account in a batch meet the balance the first left."""
    results = PaymentResults()
    known: set[str] = set()
    for refs in chunked([p.payment_ref for p in payments], 1000):
        known.update(session.scalars(sa.select(col(Payment.payment_ref)).where(col(Payment.payment_ref).in_(refs))))
    batch = _Batch.load(session, [p.account_id for p in payments if p.kind == PAYMENT and p.payment_ref not in known])
    with held_back(session):
        for payment in payments:
            if payment.payment_ref in known:
                results.duplicates += 1
                continue
            known.add(payment.payment_ref)
            if payment.kind == PAYMENT:
                with session.no_autoflush:
                    results.closed_accounts += int(_apply(session, config, batch, payment, actor, now))
                results.amount_minor += payment.amount_minor
            else:
                batch.write_payments(session)  # the payment it reverses may be one of this batch's
                results.reopened_accounts += int(_reverse(session, config, payment, actor, now))
                batch.plans.pop(payment.account_id, None)  # a reversal may have re-opened a kept plan: read it again
                results.amount_minor -= payment.amount_minor
                results.reversed += 1
            results.recorded += 1
        batch.write_payments(session)
    session.flush()
    return results


@dataclass
class _Plan:
    plan: PaymentPlan
    installments: list[Installment]  # by seq


@dataclass
class _Batch:
    """What a batch of payments reads about its accounts, loaded at once: the accounts (locked), their
    customers' jurisdictions, their active plans with installments, which have queued messages (and which of
    those are plan reminders) and which have an escalation waiting for a decision. Kept current as payments
    apply; nothing a payment does queues a message or opens a task, so what was loaded stays true. The
    payment rows and what each gave an installment wait here to be written together (`write_payments`)."""

    accounts: dict[int, Account]
    jurisdictions: dict[int, str]
    plans: dict[int, _Plan | None]
    with_queued: set[int] = field(default_factory=set)
    plan_reminders: dict[int, list[tuple[int, str]]] = field(default_factory=lambda: defaultdict(list))
    escalated: set[int] = field(default_factory=set)
    payments: list[dict[str, Any]] = field(default_factory=list)
    allocations: list[tuple[int, int, int]] = field(default_factory=list)  # (index in payments, installment, amount)

    @classmethod
    def load(cls, session: Session, account_ids: list[int]) -> _Batch:
        batch = cls({}, {}, {})
        ids = sorted(set(account_ids))  # locked in id order, as every writer does
        for chunk in chunked(ids, 1000):
            query = sa.select(Account, col(Customer.jurisdiction)).join(
                Customer, col(Customer.id) == col(Account.customer_id)
            )
            for account, jurisdiction in session.execute(
                query.where(col(Account.id).in_(chunk)).order_by(col(Account.id)).with_for_update(of=Account)
            ).tuples():
                batch.accounts[account.id] = account  # type: ignore[index]
                batch.jurisdictions[account.id] = jurisdiction  # type: ignore[index]
            batch.plans.update(dict.fromkeys(chunk))
            batch._load_plans(session, chunk)
            batch._load_queued(session, chunk)
            batch.escalated.update(
                session.scalars(
                    sa.select(col(HumanTask.account_id)).where(
                        col(HumanTask.account_id).in_(chunk),
                        col(HumanTask.kind) == LEGAL_ESCALATION,
                        col(HumanTask.status).in_(PENDING),
                    )
                )
            )
        return batch

    def _load_queued(self, session: Session, account_ids: Sequence[int]) -> None:
        queued = sa.select(
            col(OutreachMessage.id),
            col(OutreachMessage.account_id),
            col(OutreachMessage.purpose),
            col(OutreachMessage.idempotency_key),
        ).where(col(OutreachMessage.account_id).in_(account_ids), col(OutreachMessage.status) == "queued")
        for message_id, account_id, purpose, key in session.execute(queued.order_by(col(OutreachMessage.id))):
            self.with_queued.add(account_id)
            if purpose == guard.PLAN:
                self.plan_reminders[account_id].append((message_id, key))

    def _load_plans(self, session: Session, account_ids: Sequence[int]) -> None:
        plans = session.scalars(
            sa.select(PaymentPlan).where(
                col(PaymentPlan.account_id).in_(account_ids), col(PaymentPlan.status) == "active"
            )
        ).all()
        by_plan = {plan.id: _Plan(plan, []) for plan in plans}
        installments = sa.select(Installment).where(col(Installment.plan_id).in_(list(by_plan)))
        for item in session.scalars(installments.order_by(col(Installment.plan_id), col(Installment.seq))):
            by_plan[item.plan_id].installments.append(item)
        for plan in by_plan.values():
            self.plans[plan.plan.account_id] = plan

    def account(self, payment: PaymentIn) -> Account:
        _check(payment)
        if payment.account_id not in self.accounts:
            raise PaymentError(f"payment {payment.payment_ref}: account {payment.account_id} does not exist")
        return _checked(self.accounts[payment.account_id], payment)

    def active_plan(self, session: Session, account_id: int) -> _Plan | None:
        if account_id not in self.plans:
            self.plans[account_id] = None
            self._load_plans(session, [account_id])
        return self.plans[account_id]

    def add_payment(self, row: dict[str, Any], covered: list[tuple[Installment, int]]) -> None:
        for installment, amount in covered:
            self.allocations.append((len(self.payments), installment.id, amount))  # type: ignore[arg-type]
        self.payments.append(row)

    def write_payments(self, session: Session) -> None:
        """The waiting payments in their order (so their ids are in that order), then their allocations."""
        ids = insert_returning_ids(session, Payment, self.payments)
        allocations = [
            {"payment_id": ids[index], "installment_id": installment_id, "amount_minor": amount}
            for index, installment_id, amount in self.allocations
        ]
        insert_rows(session, InstallmentAllocation, allocations)
        self.payments, self.allocations = [], []


def _locked_account(session: Session, payment: PaymentIn) -> Account:
    _check(payment)
    account = session.get(Account, payment.account_id, with_for_update=True)
    if account is None:
        raise PaymentError(f"payment {payment.payment_ref}: account {payment.account_id} does not exist")
    return _checked(account, payment)


def _check(payment: PaymentIn) -> None:
    if payment.kind not in KINDS:
        raise PaymentError(f"payment {payment.payment_ref}: kind must be one of {', '.join(KINDS)}")
    if payment.amount_minor <= 0:
        raise PaymentError(f"payment {payment.payment_ref}: amount must be positive")


def _checked(account: Account, payment: PaymentIn) -> Account:
    if account.currency != payment.currency:
        raise PaymentError(
            f"payment {payment.payment_ref}: currency {payment.currency} but account is in {account.currency}"
        )
    return account


def _balances(account: Account) -> Balances:
    return Balances(account.fees_minor, account.interest_minor, account.principal_minor, account.credit_minor)


def _set_balances(account: Account, balances: Balances) -> None:
    account.fees_minor, account.interest_minor = balances.fees, balances.interest
    account.principal_minor, account.credit_minor = balances.principal, balances.credit
    account.version += 1


def _apply(
    session: Session, config: Configuration, batch: _Batch, payment: PaymentIn, actor: str, now: datetime
) -> bool:
    account = batch.account(payment)
    assert account.id is not None
    dpd = days_past_due(account.due_date, payment.received_on)
    order = config.policy(batch.jurisdictions[account.id]).allocation_order(account.product, dpd)
    after, split = _balances(account).pay(payment.amount_minor, order)
    _set_balances(account, after)
    plan = batch.active_plan(session, account.id)
    covered = [] if plan is None else _pay_installments(session, plan, payment.amount_minor)
    batch.add_payment(_payment_row(payment, split, PAYMENT, None, now), covered)
    record(
        session,
        "payment.received",
        actor,
        now,
        account.id,
        ref=payment.payment_ref,
        amount_minor=payment.amount_minor,
        dpd=dpd,
        order=list(order),
        credit_minor=split.unapplied_minor,
        installments={str(installment.seq): amount for installment, amount in covered},
        **split.parts,
    )
    closed = account.balance_minor == 0 and account.stage != stages.CLOSED  # a late overpayment only adds credit
    if closed:
        previous = account.stage
        account.stage, account.stage_entered_on, account.next_action_on = stages.CLOSED, payment.received_on, None
        record_many(session, stage_changed(actor, now, account.id, previous, stages.CLOSED))
        if account.id in batch.with_queued:
            cancel_queued(session, account.id, "paid in full", actor, now)
            batch.with_queued.discard(account.id)
            batch.plan_reminders.pop(account.id, None)
        if plan is not None:  # paid in full means the plan is kept today, not at the next cycle
            _keep(session, batch, plan, payment.received_on, actor, now)
        if account.id in batch.escalated:
            withdraw_open_escalations(session, account.id, "paid in full", actor, now)
            batch.escalated.discard(account.id)
    elif account.stage == stages.PLAN:
        account.next_action_on = payment.received_on  # re-anchor the plan cadence on the next unpaid installment
        if plan is not None:
            _cancel_paid_installment_reminders(session, batch, plan, actor, now)
            if all(item.paid_minor >= item.amount_minor for item in plan.installments):
                _keep(session, batch, plan, payment.received_on, actor, now, plan_kind=plan.plan.kind)
                conclude_kept(session, config, plan.plan, payment.received_on, now)
    reanchor_after_payment(session, config, account, payment.received_on, actor, now)
    session.add(account)
    return closed


def _insert_payment(session: Session, row: dict[str, Any]) -> int:
    return int(session.execute(sa.insert(Payment).returning(col(Payment.id)), row).scalar_one())


def _payment_row(
    payment: PaymentIn, split: Allocation, kind: str, reverses_id: int | None, now: datetime, sign: int = 1
) -> dict[str, Any]:
    return {
        "payment_ref": payment.payment_ref,
        "account_id": payment.account_id,
        "kind": kind,
        "reverses_id": reverses_id,
        "amount_minor": sign * payment.amount_minor,
        "currency": payment.currency,
        "received_on": payment.received_on,
        "source": payment.source,
        "to_fees_minor": sign * split.parts.get("fees", 0),
        "to_interest_minor": sign * split.parts.get("interest", 0),
        "to_principal_minor": sign * split.parts.get("principal", 0),
        "unapplied_minor": sign * split.unapplied_minor,
        "created_at": now,
    }


def _pay_installments(session: Session, plan: _Plan, amount_minor: int) -> list[tuple[Installment, int]]:
    """Pay the active plan's installments oldest first; returns what went to each."""
    states = [InstallmentState(r.seq, r.due_date, r.amount_minor, r.paid_minor) for r in plan.installments]
    covered: list[tuple[Installment, int]] = []
    for row, state in zip(plan.installments, apply_to_installments(states, amount_minor), strict=True):
        if row.paid_minor != state.paid_minor:
            covered.append((row, state.paid_minor - row.paid_minor))
            row.paid_minor = state.paid_minor
            session.add(row)
    return covered


def _cancel_paid_installment_reminders(session: Session, batch: _Batch, plan: _Plan, actor: str, now: datetime) -> None:
    """A plan reminder is about the installment due on its anchor day: once that installment is paid, the
    customer has paid what the reminder asks for, so it must not go out."""
    account_id = plan.plan.account_id
    queued = batch.plan_reminders.get(account_id)
    if not queued:
        return
    paid_days = {item.due_date for item in plan.installments if item.paid_minor >= item.amount_minor}
    paid = [message_id for message_id, key in queued if anchor_of(key) in paid_days]
    if paid:
        cancel_queued(session, account_id, "installment paid", actor, now, ids=paid)
        batch.plan_reminders[account_id] = [(message_id, key) for message_id, key in queued if message_id not in paid]


def _keep(session: Session, batch: _Batch, plan: _Plan, day: date, actor: str, now: datetime, **data: Any) -> None:
    """The plan is kept on the day of the payment that completed it or paid the account in full."""
    plan.plan.status, plan.plan.ended_on = "kept", day
    session.add(plan.plan)
    batch.plans[plan.plan.account_id] = None
    record(session, "plan.kept", actor, now, plan.plan.account_id, plan_id=plan.plan.id, **data)


# --- reversals and chargebacks --------------------------------------------------------------------


def _original(session: Session, reversal: PaymentIn) -> Payment:
    """The payment a reversal returns, if it may be returned: same account, same amount, not returned yet."""
    ref = reversal.payment_ref
    original = session.scalars(sa.select(Payment).where(col(Payment.payment_ref) == (reversal.reverses or ""))).first()
    if original is None or original.kind != PAYMENT:
        raise PaymentError(f"{reversal.kind} {ref}: no payment {reversal.reverses!r} on record to reverse")
    if original.account_id != reversal.account_id:
        raise PaymentError(f"{reversal.kind} {ref}: payment {original.payment_ref} was made to another account")
    if original.amount_minor != reversal.amount_minor:
        raise PaymentError(
            f"{reversal.kind} {ref}: amount {reversal.amount_minor} but payment {original.payment_ref} was "
            f"{original.amount_minor} (only whole payments are reversed)"
        )
    earlier = session.scalar(sa.select(col(Payment.payment_ref)).where(col(Payment.reverses_id) == original.id))
    if earlier is not None:
        raise PaymentError(f"{reversal.kind} {ref}: payment {original.payment_ref} was already reversed by {earlier}")
    return original


def _reverse(session: Session, config: Configuration, reversal: PaymentIn, actor: str, now: datetime) -> bool:
    """Returns True when the reversal re-opened a closed account."""
    account = _locked_account(session, reversal)
    original = _original(session, reversal)
    split = Allocation(
        {
            "fees": original.to_fees_minor,
            "interest": original.to_interest_minor,
            "principal": original.to_principal_minor,
        },
        original.unapplied_minor,
    )
    try:
        _set_balances(account, _balances(account).reverse(split))
    except ValueError as exc:
        raise PaymentError(f"{reversal.kind} {reversal.payment_ref}: {exc}") from None
    reversal_id = _insert_payment(session, _payment_row(reversal, split, reversal.kind, original.id, now, sign=-1))
    reopened_plans = _unpay_installments(session, original, reversal_id, reversal.kind, actor, now)
    record(
        session,
        "payment.reversed",
        actor,
        now,
        account.id,
        ref=reversal.payment_ref,
        reversal_kind=reversal.kind,
        reverses=original.payment_ref,
        amount_minor=original.amount_minor,
        credit_minor=original.unapplied_minor,
        **split.parts,
    )
    previous = account.stage
    new_stage = _stage_now(session, config, account, reversal.received_on)
    if new_stage != previous:
        account.stage, account.stage_entered_on = new_stage, reversal.received_on
        record_many(session, stage_changed(actor, now, account.id, previous, new_stage, reason=reversal.kind))  # type: ignore[arg-type]
    if new_stage != previous or reopened_plans or new_stage == stages.PLAN:
        account.next_action_on = reversal.received_on  # the cadence picks the account up again today
    session.add(account)
    session.flush()
    return previous == stages.CLOSED and new_stage != stages.CLOSED


def _unpay_installments(
    session: Session, original: Payment, reversal_id: int, reason: str, actor: str, now: datetime
) -> int:
    """Take back from each installment what the payment gave it; a plan that was kept with that money is active
    again (the cycle judges it tomorrow like any other: unpaid past grace breaks it). Returns plans re-opened."""
    given = session.execute(
        sa.select(InstallmentAllocation, Installment)
        .join(Installment, col(Installment.id) == col(InstallmentAllocation.installment_id))
        .where(col(InstallmentAllocation.payment_id) == original.id)
    ).all()
    plan_ids: set[int] = set()
    for allocation, installment in given:
        installment.paid_minor -= allocation.amount_minor
        session.add(installment)
        session.add(
            InstallmentAllocation(
                payment_id=reversal_id,
                installment_id=installment.id,  # type: ignore[arg-type]
                amount_minor=-allocation.amount_minor,
            )
        )
        plan_ids.add(installment.plan_id)
    reopened = 0
    for plan in session.scalars(sa.select(PaymentPlan).where(col(PaymentPlan.id).in_(plan_ids))):
        if plan.status == "kept":
            plan.status, plan.ended_on = "active", None
            session.add(plan)
            record(session, "plan.reopened", actor, now, plan.account_id, plan_id=plan.id, reason=reason)
            reopened += 1
    session.flush()
    return reopened


def _stage_now(session: Session, config: Configuration, account: Account, day: date) -> str:
    """The stage the account's facts call for after money came back off it: a legal case stays legal, an active
    plan is a plan, otherwise the strategy's stages by days past due, as the cycle would classify it."""
    if account.balance_minor > 0 and session.scalar(
        sa.select(sa.func.count()).where(col(LegalCase.account_id) == account.id)
    ):
        return stages.LEGAL
    has_plan = session.scalar(
        sa.select(sa.func.count()).where(col(PaymentPlan.account_id) == account.id, col(PaymentPlan.status) == "active")
    )
    facts = AccountFacts(
        account.stage,
        days_past_due(account.due_date, day),
        account.balance_minor,
        account.currency,
        account.broken_plans,
        bool(has_plan),
    )
    return classify(facts, config.strategy_for(account.strategy_arm))
