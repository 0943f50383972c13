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
    first_lines,
    read,
    validate,
)
from overdue.services.payments import PaymentIn, record_payments
from overdue.store.bulk import chunked
from overdue.store.tables import Account, Customer, Payment

PAYMENT_REQUIRED = ("payment_ref", "account_ref", "amount", "currency", "received_on")
PAYMENT_OPTIONAL = ("kind", "reverses")
PAYMENT_BATCH = 1_000  # payments per record_payments call, whose own look-up is one IN (...) query


# --- payments -------------------------------------------------------------------------------------


def import_payments(session: Session, config: Configuration, path: Path, now: datetime) -> ImportResult:
    """Record payments from a CSV file through record_payments, so allocation, plan installments and
    closing happen exactly as for any other payment; see docs/csv-formats.md."""
    parsed = read(path, PAYMENT_REQUIRED, PAYMENT_OPTIONAL)
    problems = list(parsed.problems)
    rows = validate(PaymentRow, parsed, problems)
    accounts = _accounts_by_ref(session, [row.account_ref for _, row in rows])
    payment_lines, repeated = first_lines([(line, row.payment_ref) for line, row in rows], "payment_ref")
    problems += repeated
    for line, row in rows:
        problems += _payment_account_problems(line, row, accounts.get(row.account_ref), config)
    recorded = existing(session, col(Payment.payment_ref), list(payment_lines))
    problems += _reversal_problems(session, [(line, row) for line, row in rows if row.payment_ref not in recorded])
    if problems:
        raise ImportRejected(path, sorted(problems, key=lambda p: p.line))
    new = [
        PaymentIn(
            row.payment_ref,
            accounts[row.account_ref][0],
            row.amount,
            row.currency,
            row.received_on,
            "import",
            row.kind,
            row.reverses,
        )
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


def _reversal_problems(session: Session, rows: Sequence[tuple[int, PaymentRow]]) -> list[ImportProblem]:
    """A reversal or chargeback must name a payment on record or on an earlier line, to the same account, for
    the same amount, that nothing else reverses: the checks record_payments makes, made before anything is
    written so the whole file is refused with every line's reason."""
    reversals = [(line, row) for line, row in rows if row.reverses is not None]
    if not reversals:
        return []
    payments: dict[str, tuple[str, int]] = {}  # ref -> account_ref, amount: on record or on an earlier line
    reversed_by: dict[str, str] = {}
    query = (
        sa.select(col(Payment.payment_ref), col(Account.external_ref), col(Payment.amount_minor), col(Payment.id))
        .join(Account, col(Account.id) == col(Payment.account_id))
        .where(col(Payment.kind) == "payment")
    )
    for batch in chunked(sorted({row.reverses for _, row in reversals if row.reverses}), LOOKUP_CHUNK):
        found = session.execute(query.where(col(Payment.payment_ref).in_(batch))).all()
        for ref, account_ref, amount_minor, _ in found:
            payments[ref] = (account_ref, amount_minor)
        earlier = sa.select(col(Payment.payment_ref), col(Payment.reverses_id)).where(
            col(Payment.reverses_id).in_([payment_id for *_, payment_id in found])
        )
        by_id = {payment_id: ref for ref, *_, payment_id in found}
        for ref, reverses_id in session.execute(earlier):
            reversed_by[by_id[reverses_id]] = repr(ref)
    problems: list[ImportProblem] = []
    for line, row in rows:
        if row.reverses is None:
            payments.setdefault(row.payment_ref, (row.account_ref, row.amount))
            continue
        original = payments.get(row.reverses)
        if original is None:
            message = f"no payment {show(row.reverses)} on record or on an earlier line"
        elif original[0] != row.account_ref:
            message = f"payment {show(row.reverses)} was made to account {show(original[0])}"
        elif original[1] != row.amount:
            problems.append(ImportProblem(line, "amount", f"must equal the amount of payment {show(row.reverses)}"))
            continue
        elif row.reverses in reversed_by:
            message = f"payment {show(row.reverses)} is already reversed by {reversed_by[row.reverses]}"
        else:
            reversed_by[row.reverses] = f"line {line}"
            continue
        problems.append(ImportProblem(line, "reverses", message))
    return problems
