"""The accounts file: customers, their contact points and accounts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from overdue.config import Configuration
from overdue.domain import stages
from overdue.domain.arms import assign_arm
from overdue.domain.masking import MASK
from overdue.services.audit import audit_row, record_many
from overdue.services.imports.cells import AccountRow, describe, show
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
from overdue.services.personal_data import PersonalField, sealed_columns
from overdue.store.bulk import chunked, insert_rows
from overdue.store.db import refresh_statistics
from overdue.store.sealed import Vault
from overdue.store.tables import Account, ContactPoint, Customer

ACCOUNT_REQUIRED = (
    "account_ref",
    "customer_ref",
    "full_name",
    "time_zone",
    "locale",
    "jurisdiction",
    "product",
    "currency",
    "principal",
    "interest",
    "fees",
    "due_date",
)
ACCOUNT_OPTIONAL = (
    "phone",
    "email",
    "postal_address",
    "consent_automated",
    "national_id",
    "card_number",
    "bank_account",
)
CUSTOMER_FIELDS = (
    "full_name",
    "time_zone",
    "locale",
    "jurisdiction",
    "phone",
    "email",
    "postal_address",
    "consent_automated",
    "national_id",
)
RECORDED_CUSTOMER_FIELDS = ("full_name", "time_zone", "locale", "jurisdiction")


# --- accounts -------------------------------------------------------------------------------------


def import_accounts(session: Session, config: Configuration, vault: Vault, path: Path, now: datetime) -> ImportResult:
    """Create customers, contact points and accounts from a CSV file, national ID, card and bank account
    numbers sealed with `vault`; see docs/csv-formats.md."""
    parsed = read(path, ACCOUNT_REQUIRED, ACCOUNT_OPTIONAL)
    problems = list(parsed.problems)
    rows = validate(AccountRow, parsed, problems)
    problems += _file_consistency(rows)
    problems += [
        ImportProblem(
            line, "jurisdiction", f"{row.jurisdiction} has no policy in configs/policies ({', '.join(config.policies)})"
        )
        for line, row in rows
        if row.jurisdiction not in config.policies
    ]
    present = existing(session, col(Account.external_ref), [row.account_ref for _, row in rows])
    new = [(line, row) for line, row in rows if row.account_ref not in present]
    known_customers = _recorded_customers(session, [row.customer_ref for _, row in new])
    problems += _record_consistency(new, known_customers, vault)
    if problems:
        raise ImportRejected(path, sorted(problems, key=lambda p: p.line))
    arms = {row.account_ref: assign_arm(row.account_ref, config.strategy.name, config.experiment) for _, row in new}
    _write_accounts(session, vault, [row for _, row in new], known_customers, arms, actor(path), now)
    if new:
        refresh_statistics(session)
    return ImportResult(created=len(new), already_present=len(rows) - len(new))


def _file_consistency(rows: Sequence[tuple[int, AccountRow]]) -> list[ImportProblem]:
    """One account per account_ref, and one set of details per customer_ref, within the file."""
    problems: list[ImportProblem] = []
    account_lines: dict[str, int] = {}
    customers: dict[str, tuple[int, AccountRow]] = {}
    for line, row in rows:
        if row.account_ref in account_lines:
            problems.append(
                ImportProblem(
                    line, "account_ref", f"{show(row.account_ref)} is already on line {account_lines[row.account_ref]}"
                )
            )
            continue
        account_lines[row.account_ref] = line
        first_line, first = customers.setdefault(row.customer_ref, (line, row))
        problems += [
            ImportProblem(
                line,
                name,
                f"customer {show(row.customer_ref)} has {describe(getattr(first, name))} on line {first_line}; "
                "a customer's details must agree on every line",
            )
            for name in CUSTOMER_FIELDS
            if getattr(row, name) != getattr(first, name)
        ]
    return problems


def _recorded_customers(session: Session, refs: Sequence[str]) -> dict[str, Customer]:
    customers: dict[str, Customer] = {}
    for batch in chunked(sorted(set(refs)), LOOKUP_CHUNK):
        for customer in session.scalars(sa.select(Customer).where(col(Customer.external_ref).in_(batch))):
            customers[customer.external_ref] = customer
    return customers


def _record_consistency(
    rows: Sequence[tuple[int, AccountRow]], customers: dict[str, Customer], vault: Vault
) -> list[ImportProblem]:
    """A new account for a customer on record must describe the same person: the wrong customer_ref would
    send collection contact about one person's debt to another. A national ID is compared only when both
    the file and the record have one (the record keeps its own either way)."""
    problems: list[ImportProblem] = []
    for line, row in rows:
        customer = customers.get(row.customer_ref)
        if customer is None:
            continue
        recorded_id = customer.national_id_sealed
        if row.national_id and recorded_id and vault.open(recorded_id) != row.national_id.value:
            problems.append(
                ImportProblem(
                    line,
                    "national_id",
                    f"customer {show(row.customer_ref)} is on record with another ID number "
                    f"({MASK}{customer.national_id_last4}); an import does not change a customer on record",
                )
            )
        problems += [
            ImportProblem(
                line,
                name,
                f"customer {show(row.customer_ref)} is on record with {describe(getattr(customer, name))}; "
                "an import does not change a customer on record",
            )
            for name in RECORDED_CUSTOMER_FIELDS
            if getattr(row, name) != getattr(customer, name)
        ]
    return problems


def _write_accounts(
    session: Session,
    vault: Vault,
    rows: Sequence[AccountRow],
    known: dict[str, Customer],
    arms: dict[str, str],
    actor: str,
    now: datetime,
) -> None:
    """Set-based inserts: customers, their contact points, accounts (each with its strategy arm), audit rows.
    New ids are read back by reference afterwards, which is cheaper than INSERT ... RETURNING on PostgreSQL."""
    firsts: dict[str, AccountRow] = {}
    for row in rows:
        if row.customer_ref not in known:
            firsts.setdefault(row.customer_ref, row)
    insert_rows(session, Customer, [_customer(vault, row, now) for row in firsts.values()])
    customer_ids = _ids(session, Customer, sorted({row.customer_ref for row in rows}))
    contacts = [point | {"customer_id": customer_ids[ref]} for ref, row in firsts.items() for point in _contacts(row)]
    insert_rows(session, ContactPoint, contacts)
    today = now.date()
    insert_rows(
        session,
        Account,
        [_account(vault, row, customer_ids[row.customer_ref], arms[row.account_ref], today) for row in rows],
    )
    account_ids = _ids(session, Account, [row.account_ref for row in rows])
    record_many(
        session,
        (
            audit_row(
                "account.imported",
                actor,
                now,
                account_ids[row.account_ref],
                ref=row.account_ref,
                customer_ref=row.customer_ref,
                strategy_arm=arms[row.account_ref],
            )
            for row in rows
        ),
    )


def _ids(session: Session, table: type[Customer | Account], refs: Sequence[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    query = sa.select(col(table.external_ref), col(table.id))
    for batch in chunked(refs, LOOKUP_CHUNK):
        ids.update(session.execute(query.where(col(table.external_ref).in_(batch))).tuples().all())
    return ids


def _customer(vault: Vault, row: AccountRow, now: datetime) -> dict[str, Any]:
    return {
        "external_ref": row.customer_ref,
        "full_name": row.full_name,
        "time_zone": row.time_zone,
        "locale": row.locale,
        "jurisdiction": row.jurisdiction,
        "vulnerability": [],
        "created_at": now,
        **sealed_columns(vault, PersonalField.NATIONAL_ID, row.national_id),
    }


def _contacts(row: AccountRow) -> list[dict[str, Any]]:
    """A phone is reachable by sms and voice alike; automated contact on it needs the customer's consent."""
    points: list[dict[str, Any]] = []
    if row.phone:
        points += [
            {"channel": channel, "address": row.phone, "consent": row.consent_automated} for channel in ("sms", "voice")
        ]
    if row.email:
        points.append({"channel": "email", "address": row.email, "consent": True})
    if row.postal_address:
        points.append({"channel": "letter", "address": row.postal_address, "consent": True})
    return points


def _account(vault: Vault, row: AccountRow, customer_id: int, arm: str, today: date) -> dict[str, Any]:
    return {
        "external_ref": row.account_ref,
        "customer_id": customer_id,
        "product": row.product,
        "currency": row.currency,
        "principal_minor": row.principal,
        "interest_minor": row.interest,
        "fees_minor": row.fees,
        "placed_balance_minor": row.balance,
        "due_date": row.due_date,
        "dpd": stages.days_past_due(row.due_date, today),
        "stage": stages.CURRENT,
        "stage_entered_on": today,
        "broken_plans": 0,
        "strategy_arm": arm,
        "version": 0,
        **sealed_columns(vault, PersonalField.CARD_NUMBER, row.card_number),
        **sealed_columns(vault, PersonalField.BANK_ACCOUNT, row.bank_account),
    }
