"""The payments file: recorded through the payment service, so allocation and closing are the same as
for any payment."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, col

from overdue.config import Configuration
from overdue.services.imports.cells import PaymentRow, show
from overdue.services.imports.files import (
    LOOKUP_CHUNK,
    ImportProblem,
    ImportRejected,
    ImportResult,
    actor,
    existing,
    read,
    validate,
)
from overdue.services.payments import PaymentIn, record_payments
from overdue.store.bulk import chunked
from overdue.store.tables import Account, Customer, Payment

PAYMENT_REQUIRED = ("payment_ref", "account_ref", "amount", "currency", "received_on")
PAYMENT_BATCH = 1_000  # payments per record_payments call, whose own look-up is one IN (...) query


# --- payments -------------------------------------------------------------------------------------


def import_payments(session: Session, config: Configuration, path: Path, now: datetime) -> ImportResult:
    """Record payments from a CSV file through record_payments, so allocation, plan installments and
    closing happen exactly as for any other payment; see docs/csv-formats.md."""
    parsed = read(path, PAYMENT_REQUIRED)
    problems = list(parsed.problems)
    rows = validate(PaymentRow, parsed, problems)
    accounts = _accounts_by_ref(session, [row.account_ref for _, row in rows])
    payment_lines: dict[str, int] = {}
    for line, row in rows:
        if row.payment_ref in payment_lines:
            problems.append(
                ImportProblem(
                    line, "payment_ref", f"{show(row.payment_ref)} is already on line {payment_lines[row.payment_ref]}"
                )
            )
        payment_lines.setdefault(row.payment_ref, line)
        problems += _payment_account_problems(line, row, accounts.get(row.account_ref), config)
    if problems:
        raise ImportRejected(path, sorted(problems, key=lambda p: p.line))
    recorded = existing(session, col(Payment.payment_ref), list(payment_lines))
    new = [
        PaymentIn(row.payment_ref, accounts[row.account_ref][0], row.amount, row.currency, row.received_on, "import")
        for _, row in rows
        if row.payment_ref not in recorded
    ]
    for batch in chunked(new, PAYMENT_BATCH):
        record_payments(session, config, batch, actor(path), now)
    return ImportResult(created=len(new), already_present=len(rows) - len(new))


def _accounts_by_ref(session: Session, refs: Sequence[str]) -> dict[str, tuple[int, str, str]]:
    """account_ref -> (account id, currency, the customer's jurisdiction), in a few set-based queries."""
    found: dict[str, tuple[int, str, str]] = {}
    query = sa.select(col(Account.external_ref), col(Account.id), col(Account.currency), col(Customer.jurisdiction))
    query = query.join(Customer, col(Customer.id) == col(Account.customer_id))
    for batch in chunked(sorted(set(refs)), LOOKUP_CHUNK):
        for ref, account_id, currency, jurisdiction in session.execute(
            query.where(col(Account.external_ref).in_(batch))
        ):
            found[ref] = (account_id, currency, jurisdiction)
    return found


def _payment_account_problems(
    line: int, row: PaymentRow, account: tuple[int, str, str] | None, config: Configuration
) -> list[ImportProblem]:
    if account is None:
        return [ImportProblem(line, "account_ref", f"no account {show(row.account_ref)} on record")]
    _, currency, jurisdiction = account
    if row.currency != currency:
        return [ImportProblem(line, "currency", f"{row.currency} but account {show(row.account_ref)} is in {currency}")]
    if jurisdiction not in config.policies:
        return [
            ImportProblem(
                line, "account_ref", f"the customer's jurisdiction {jurisdiction} has no policy in configs/policies"
            )
        ]
    return []
