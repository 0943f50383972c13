"""What the customer told us about contacting them: opt-outs per channel, consent to automated contact,
and the other people's contact points we hold (a guarantor, a relative). Every change is audited on each
of the customer's accounts, so the account's history shows it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from overdue.config import Configuration
from overdue.config.models import CHANNELS
from overdue.services.audit import audit_row, record_many
from overdue.services.imports.cells import e164, email
from overdue.services.outreach import cancel_queued
from overdue.store.tables import Account, ContactPoint, Customer

PARTIES = ("debtor", "guarantor", "third_party")


class PreferenceError(ValueError):
    pass


def _customer_of(session: Session, account_id: int) -> int:
    account = session.get(Account, account_id)
    if account is None:
        raise PreferenceError(f"account {account_id} does not exist")
    return account.customer_id


def _points(session: Session, customer_id: int, channel: str) -> list[ContactPoint]:
    if channel not in CHANNELS:
        raise PreferenceError(f"unknown channel '{channel}' (one of {', '.join(CHANNELS)})")
    query = sa.select(ContactPoint).where(
        col(ContactPoint.customer_id) == customer_id,
        col(ContactPoint.channel) == channel,
        col(ContactPoint.party) == "debtor",
    )
    points = list(session.scalars(query))
    if not points:
        raise PreferenceError(f"the customer has no {channel} contact point")
    return points


def _accounts_of(session: Session, customer_id: int) -> list[int]:
    return list(session.scalars(sa.select(col(Account.id)).where(col(Account.customer_id) == customer_id)))


def _audit_all_accounts(session: Session, customer_id: int, kind: str, user: str, now: datetime, **data: Any) -> None:
    accounts = _accounts_of(session, customer_id)
    record_many(session, [audit_row(kind, user, now, account_id, **data) for account_id in accounts])


def _require(source: str) -> str:
    if not source.strip():
        raise PreferenceError("say how the customer told us (--source), e.g. 'phone call', 'letter', 'STOP reply'")
    return source.strip()


def _normalized(channel: str, address: str, region: str) -> str:
    """Phones in E.164 and emails checked as the account import does, so the guard matches them exactly."""
    try:
        if channel in ("sms", "voice"):
            phone = e164(address.strip(), region)
            if phone is None:
                raise ValueError(f"{address!r} is not a valid phone number")
            return phone
        if channel == "email":
            checked = email(address)
            if checked is None:
                raise ValueError("an email address is required")
            return checked
    except ValueError as exc:
        raise PreferenceError(str(exc)) from None
    if not address.strip():
        raise PreferenceError("an address is required")
    return address.strip()


def opt_out(session: Session, account_id: int, channel: str, source: str, user: str, now: datetime) -> int:
    """The customer asked us not to use `channel`: it binds at once, on all their accounts."""
    return _opt_out_customer(session, _customer_of(session, account_id), channel, _require(source), user, now)


def _opt_out_customer(session: Session, customer_id: int, channel: str, source: str, user: str, now: datetime) -> int:
    changed = 0
    for point in _points(session, customer_id, channel):
        if point.opted_out_at is None:
            point.opted_out_at = now
            session.add(point)
            changed += 1
    if changed:
        _audit_all_accounts(session, customer_id, "optout", user, now, channel=channel, source=source)
        for account_id in _accounts_of(session, customer_id):  # queued messages on the channel stop now
            cancel_queued(session, account_id, f"opted out of {channel}", user, now, channel=channel)
    return changed


def opt_in(session: Session, account_id: int, channel: str, source: str, user: str, now: datetime) -> int:
    """The customer asked to hear from us on `channel` again (only they can undo an opt-out)."""
    return _opt_in_customer(session, _customer_of(session, account_id), channel, _require(source), user, now)


def _opt_in_customer(session: Session, customer_id: int, channel: str, source: str, user: str, now: datetime) -> int:
    changed = 0
    for point in _points(session, customer_id, channel):
        if point.opted_out_at is not None:
            point.opted_out_at = None
            session.add(point)
            changed += 1
    if changed:
        _audit_all_accounts(session, customer_id, "optin", user, now, channel=channel, source=source)
    return changed


def set_consent(
    session: Session, account_id: int, channel: str, granted: bool, source: str, user: str, now: datetime
) -> int:
    """Consent to automated calls or texts, given or revoked; the audit trail is the consent history."""
    source = _require(source)
    customer_id = _customer_of(session, account_id)
    changed = 0
    for point in _points(session, customer_id, channel):
        if point.consent != granted:
            point.consent = granted
            session.add(point)
            changed += 1
    if changed:
        kind = "consent.granted" if granted else "consent.revoked"
        _audit_all_accounts(session, customer_id, kind, user, now, channel=channel, source=source)
    return changed


def add_contact_point(
    session: Session,
    config: Configuration,
    account_id: int,
    channel: str,
    address: str,
    party: str,
    relation: str | None,
    user: str,
    now: datetime,
) -> ContactPoint:
    """A new way to reach the customer, or a guarantor or a third party (who must have a relation).
    A phone without a country code is read as a number of the customer's jurisdiction."""
    if channel not in CHANNELS:
        raise PreferenceError(f"unknown channel '{channel}' (one of {', '.join(CHANNELS)})")
    if party not in PARTIES:
        raise PreferenceError(f"unknown party '{party}' (one of {', '.join(PARTIES)})")
    if party == "third_party" and not (relation and relation.strip()):
        raise PreferenceError("a third party needs a --relation (sister, friend, employer, ...)")
    customer_id = _customer_of(session, account_id)
    customer = session.get(Customer, customer_id)
    assert customer is not None
    address = _normalized(channel, address, config.policy(customer.jurisdiction).holiday_country)
    point = ContactPoint(
        customer_id=customer_id,
        channel=channel,
        address=address,
        party=party,
        relation=relation.strip() if relation else None,
        consent=False,
    )
    session.add(point)
    session.flush()
    _audit_all_accounts(
        session, customer_id, "contact_point.added", user, now, channel=channel, party=party, relation=point.relation
    )
    return point


# --- by address: what a provider or a reply tells us about one number or email address ---------------------


def _holders(session: Session, channel: str, address: str) -> list[ContactPoint]:
    """Every contact point on `channel` with this address, whoever's it is (a number can be shared). Emails are
    matched ignoring case, found by the index when written as we hold them."""
    query = sa.select(ContactPoint).where(col(ContactPoint.channel) == channel).order_by(col(ContactPoint.id))
    found = list(session.scalars(query.where(col(ContactPoint.address) == address)))
    if not found and channel == "email":
        found = list(session.scalars(query.where(sa.func.lower(col(ContactPoint.address)) == address.lower())))
    return found


def opt_out_address(session: Session, channel: str, address: str, source: str, user: str, now: datetime) -> list[int]:
    """Whoever holds `address` asked us to stop using it (a STOP reply, an unsubscribe): a debtor's opt-out
    covers the channel on all their accounts, as `opt_out` does; someone else's covers their point. Returns
    the debtors whose opt-out is new."""
    return _by_address(session, channel, address, _require(source), user, now, opting_out=True)


def opt_in_address(session: Session, channel: str, address: str, source: str, user: str, now: datetime) -> list[int]:
    """Whoever holds `address` asked to hear from us again (a START reply). Returns the debtors opted back in."""
    return _by_address(session, channel, address, _require(source), user, now, opting_out=False)


def _by_address(
    session: Session, channel: str, address: str, source: str, user: str, now: datetime, *, opting_out: bool
) -> list[int]:
    per_customer = _opt_out_customer if opting_out else _opt_in_customer
    changed: list[int] = []
    for point in _holders(session, channel, address):
        customer_id = point.customer_id
        if point.party == "debtor":
            if customer_id not in changed and per_customer(session, customer_id, channel, source, user, now):
                changed.append(customer_id)
        elif (point.opted_out_at is None) == opting_out:
            point.opted_out_at = now if opting_out else None
            session.add(point)
            kind = "optout" if opting_out else "optin"
            _audit_all_accounts(session, customer_id, kind, user, now, channel=channel, source=source)
    return changed


def invalidate_address(session: Session, channel: str, address: str, reason: str, user: str, now: datetime) -> int:
    """`address` cannot be reached on `channel` (an invalid number, a hard bounce, "wrong number"): the guard
    stops using it at once, and the locate rules may then look for the debtor elsewhere."""
    changed = 0
    for point in _holders(session, channel, address):
        if point.invalid_at is None:
            point.invalid_at = now
            session.add(point)
            changed += 1
            _audit_all_accounts(
                session,
                point.customer_id,
                "contact_point.invalidated",
                user,
                now,
                channel=channel,
                party=point.party,
                reason=reason,
            )
    return changed
