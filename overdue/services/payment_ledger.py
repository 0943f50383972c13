"""An account's money as people read it: what it owes per component, its credit, and every payment with where
it went (fees, interest, principal, credit, plan installments) and what reversed it. For `overdue payments
show` and the dashboard; reads only."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from overdue.config import Configuration
from overdue.domain.stages import days_past_due
from overdue.store.tables import Account, Customer, Installment, InstallmentAllocation, Payment


@dataclass(frozen=True)
class PaymentLine:
    payment_ref: str
    kind: str  # payment, reversal, chargeback
    received_on: date
    source: str
    amount_minor: int  # negative for a reversal or chargeback
    to_fees_minor: int
    to_interest_minor: int
    to_principal_minor: int
    to_credit_minor: int
    installments: dict[int, int]  # installment seq -> amount
    reverses: str | None  # the payment a reversal returns
    reversed_by: str | None  # the reversal that returned this payment


@dataclass(frozen=True)
class AccountLedger:
    account_id: int
    account_ref: str
    product: str
    jurisdiction: str
    currency: str
    stage: str
    principal_minor: int
    interest_minor: int
    fees_minor: int
    credit_minor: int
    accrued_through: date | None
    allocation_order: tuple[str, ...]  # what a payment received `as_of` would pay first
    payments: list[PaymentLine] = field(default_factory=list)

    @property
    def balance_minor(self) -> int:
        return self.principal_minor + self.interest_minor + self.fees_minor


def account_ledger(session: Session, config: Configuration, account_ref: str, as_of: date) -> AccountLedger | None:
    found = session.execute(
        sa.select(Account, col(Customer.jurisdiction))
        .join(Customer, col(Customer.id) == col(Account.customer_id))
        .where(col(Account.external_ref) == account_ref)
    ).first()
    if found is None:
        return None
    account, jurisdiction = found
    order = config.policy(jurisdiction).allocation_order(account.product, days_past_due(account.due_date, as_of))
    return AccountLedger(
        account_id=account.id,
        account_ref=account.external_ref,
        product=account.product,
        jurisdiction=jurisdiction,
        currency=account.currency,
        stage=account.stage,
        principal_minor=account.principal_minor,
        interest_minor=account.interest_minor,
        fees_minor=account.fees_minor,
        credit_minor=account.credit_minor,
        accrued_through=account.accrued_through,
        allocation_order=order,
        payments=payment_lines(session, account.id),  # type: ignore[arg-type]
    )


def payment_lines(session: Session, account_id: int) -> list[PaymentLine]:
    """Every payment and reversal of the account, oldest first, with where each one's money went."""
    original, reversal = aliased(Payment), aliased(Payment)
    rows = session.execute(
        sa.select(Payment, col(original.payment_ref), col(reversal.payment_ref))
        .outerjoin(original, col(original.id) == col(Payment.reverses_id))
        .outerjoin(reversal, col(reversal.reverses_id) == col(Payment.id))
        .where(col(Payment.account_id) == account_id)
        .order_by(col(Payment.received_on), col(Payment.id))
    ).all()
    spread: dict[int, dict[int, int]] = defaultdict(dict)
    for payment_id, seq, amount in session.execute(
        sa.select(col(InstallmentAllocation.payment_id), col(Installment.seq), col(InstallmentAllocation.amount_minor))
        .join(Installment, col(Installment.id) == col(InstallmentAllocation.installment_id))
        .join(Payment, col(Payment.id) == col(InstallmentAllocation.payment_id))
        .where(col(Payment.account_id) == account_id)
        .order_by(col(Installment.seq))
    ):
        spread[payment_id][seq] = amount
    return [
        PaymentLine(
            payment_ref=p.payment_ref,
            kind=p.kind,
            received_on=p.received_on,
            source=p.source,
            amount_minor=p.amount_minor,
            to_fees_minor=p.to_fees_minor,
            to_interest_minor=p.to_interest_minor,
            to_principal_minor=p.to_principal_minor,
            to_credit_minor=p.unapplied_minor,
            installments=spread.get(p.id, {}),  # type: ignore[arg-type]
            reverses=reverses,
            reversed_by=reversed_by,
        )
        for p, reverses, reversed_by in rows
    ]
