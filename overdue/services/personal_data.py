"""Personal data at rest and on screen: sealed numbers, their masked form, and reveals a person must justify.

National ID, card and bank account numbers are stored sealed (overdue/store/sealed.py) beside their last 4
in clear. Phones and emails stay in clear, because outreach needs them, but screens show them masked too.
A full value leaves here only through `reveal`, which records who asked and why before handing it out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from overdue.domain.masking import MASK, Sensitive, mask_email, mask_phone
from overdue.domain.refusals import Refused
from overdue.services.audit import record
from overdue.services.refusal_texts import refusal
from overdue.store.bulk import chunked, update_by_id
from overdue.store.sealed import Vault
from overdue.store.tables import Account, ContactPoint, Customer, Evidence


class PersonalField(StrEnum):
    """What a screen shows masked and a person may reveal; the sealed ones are named as their CSV columns."""

    PHONE = "phone"
    EMAIL = "email"
    NATIONAL_ID = "national_id"
    CARD_NUMBER = "card_number"
    BANK_ACCOUNT = "bank_account"

    @property
    def label(self) -> str:
        return LABELS[self]


LABELS = {
    PersonalField.PHONE: "Phone",
    PersonalField.EMAIL: "Email",
    PersonalField.NATIONAL_ID: "National ID",
    PersonalField.CARD_NUMBER: "Card number",
    PersonalField.BANK_ACCOUNT: "Bank account",
}
OWNERS: dict[PersonalField, type[Customer] | type[Account]] = {
    PersonalField.NATIONAL_ID: Customer,
    PersonalField.CARD_NUMBER: Account,
    PersonalField.BANK_ACCOUNT: Account,
}
SEALED = tuple(OWNERS)
# Every sealed column, and how many of its values a rotation holds at once (documents are large).
SEALED_COLUMNS: tuple[tuple[type[Customer] | type[Account] | type[Evidence], str, int], ...] = (
    *((OWNERS[name], f"{name}_sealed", 1_000_000) for name in SEALED),
    (Evidence, "content_sealed", 20),
)
CHANNELS = {PersonalField.PHONE: ("sms", "voice"), PersonalField.EMAIL: ("email",)}
MIN_REASON = 5
REVEALED = "pii.revealed"


class RevealRefused(Refused):
    """A reveal that was not allowed or had nothing to show; nothing was recorded."""


def sealed_columns(vault: Vault, name: PersonalField, value: Sensitive | None) -> dict[str, str | None]:
    """The two columns a sensitive number is stored in: its sealed token and its last 4 in clear."""
    if value is None:
        return {f"{name}_sealed": None, f"{name}_last4": None}
    return {f"{name}_sealed": vault.seal(value.value), f"{name}_last4": value.last4}


def _column(name: PersonalField, suffix: str) -> Any:
    return getattr(OWNERS[name], f"{name}_{suffix}")


def _contact(field: PersonalField) -> Any:
    """The customer's first phone (or email) on record: the one a screen masks is the one a reveal shows."""
    return (
        sa.select(col(ContactPoint.address))
        .where(col(ContactPoint.customer_id) == col(Customer.id), col(ContactPoint.channel).in_(CHANNELS[field]))
        .order_by(col(ContactPoint.id))
        .limit(1)
        .scalar_subquery()
    )


def _of_account(*columns: Any) -> sa.Select[Any]:
    return sa.select(*columns).select_from(Account).join(Customer, col(Customer.id) == col(Account.customer_id))


# --- on screen ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MaskedDetails:
    """An account's personal data as every screen shows it; None where there is nothing on record."""

    phone: str | None
    email: str | None
    national_id: str | None
    card_number: str | None
    bank_account: str | None


def masked_details(session: Session, account_ids: Sequence[int]) -> dict[int, MaskedDetails]:
    """One query for a page of accounts; the full numbers are never read."""
    query = _of_account(
        col(Account.id),
        _contact(PersonalField.PHONE).label("phone"),
        _contact(PersonalField.EMAIL).label("email"),
        *(_column(name, "last4").label(name.value) for name in SEALED),
    )
    details: dict[int, MaskedDetails] = {}
    for batch in chunked(sorted(set(account_ids)), 1000):
        for row in session.execute(query.where(col(Account.id).in_(batch))):
            details[row.id] = MaskedDetails(
                phone=mask_phone(row.phone) if row.phone else None,
                email=mask_email(row.email) if row.email else None,
                **{name.value: MASK + getattr(row, name) if getattr(row, name) else None for name in SEALED},
            )
    return details


# --- revealed -------------------------------------------------------------------------------------


def reveal(
    session: Session, vault: Vault, account_id: int, field: PersonalField, actor: str, reason: str, now: datetime
) -> str:
    """The full value, after the reveal is recorded (kind `pii.revealed`: actor, field and reason, never the
    value) in the caller's transaction. A caller shows the value only once that transaction has committed."""
    actor, reason = actor.strip(), reason.strip()
    if not actor:
        raise RevealRefused(refusal("reveal_who"))
    if len(reason) < MIN_REASON:
        raise RevealRefused(refusal("reveal_reason", characters=MIN_REASON))
    if session.get(Account, account_id) is None:
        raise RevealRefused(refusal("no_account", account=account_id))
    column = _contact(field) if field in CHANNELS else _column(field, "sealed")
    stored = session.scalar(_of_account(column).where(col(Account.id) == account_id))
    if stored is None:
        raise RevealRefused(refusal("reveal_nothing", account=account_id, field=field.label.lower()))
    value = stored if field in CHANNELS else vault.open(stored)
    record(session, REVEALED, actor, now, account_id, field=field.value, reason=reason)
    return str(value)


# --- key rotation ---------------------------------------------------------------------------------


def rotate_sealed(session: Session, vault: Vault, batch: int = 1000) -> int:
    """Re-seal every value (numbers and evidence documents) not yet under the primary key; returns how many
    were re-sealed.

    Commits after each batch, so a long rotation holds no long transaction and keeps its progress: a run
    stopped half-way is finished by running it again, and a second complete run re-seals nothing.
    """
    resealed = 0
    for table, name, most in SEALED_COLUMNS:
        sealed = getattr(table, name)
        after = 0
        while rows := session.execute(
            sa.select(col(table.id), sealed)
            .where(sealed.is_not(None), col(table.id) > after)
            .order_by(col(table.id))
            .limit(min(batch, most))
        ).all():
            after = rows[-1][0]
            rotated = [(row_id, token, vault.rotate(token)) for row_id, token in rows]
            changed = [{"id": row_id, name: new} for row_id, old, new in rotated if new != old]
            update_by_id(session, table, changed)
            session.commit()
            resealed += len(changed)
    return resealed
