"""Holds stop collection contact, offers and escalation while active (dispute, hardship, bankruptcy, ...).

Placing a hold cancels the account's queued messages at once; the cycle skips held accounts.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col

from overdue.channels.context import Sender, message_context
from overdue.channels.templates import TemplateRenderer
from overdue.services.audit import record
from overdue.services.decisions import withdraw_open_escalations
from overdue.services.outreach import cancel_queued
from overdue.store.tables import Account, ContactPoint, Customer, Hold, OutreachMessage

HOLD_KINDS = ("dispute", "complaint", "hardship", "breathing_space", "bankruptcy", "deceased", "attorney", "cease")


class HoldError(ValueError):
    pass


def place_hold(
    session: Session,
    account_id: int,
    kind: str,
    reason: str,
    user: str,
    starts_on: date,
    now: datetime,
    ends_on: date | None = None,
) -> Hold:
    if kind not in HOLD_KINDS:
        raise HoldError(f"unknown hold kind '{kind}' (one of {', '.join(HOLD_KINDS)})")
    if not reason.strip():
        raise HoldError("a reason is required")
    if ends_on is not None and ends_on < starts_on:
        raise HoldError("a hold cannot end before it starts")
    if session.get(Account, account_id) is None:
        raise HoldError(f"account {account_id} does not exist")
    hold = Hold(
        account_id=account_id,
        kind=kind,
        reason=reason.strip(),
        starts_on=starts_on,
        ends_on=ends_on,
        created_by=user,
        placed_at=now,
    )
    session.add(hold)
    session.flush()
    record(session, "hold.placed", user, now, account_id, hold_id=hold.id, hold_kind=kind, reason=hold.reason)
    if starts_on <= now.date():
        cancel_queued(session, account_id, f"{kind} hold", user, now)
        withdraw_open_escalations(session, account_id, f"{kind} hold", user, now)
    return hold


def release_hold(session: Session, hold_id: int, reason: str, user: str, today: date, now: datetime) -> Hold:
    hold = session.get(Hold, hold_id)
    if hold is None:
        raise HoldError(f"hold {hold_id} does not exist")
    if hold.ends_on is not None and hold.ends_on < today:
        raise HoldError(f"hold {hold_id} already ended on {hold.ends_on}")
    if not reason.strip():
        raise HoldError("a reason is required")
    hold.ends_on = today - timedelta(days=1)  # ends_on is the last held day: contact may resume today
    session.add(hold)
    record(session, "hold.released", user, now, hold.account_id, hold_id=hold.id, reason=reason.strip())
    return hold


def holds_of(session: Session, account_id: int) -> list[Hold]:
    query = sa.select(Hold).where(col(Hold.account_id) == account_id).order_by(col(Hold.id))
    return list(session.scalars(query))


def verify_dispute(
    session: Session,
    renderer: TemplateRenderer,
    sender: Sender,
    hold_id: int,
    note: str,
    user: str,
    now: datetime,
) -> OutreachMessage:
    """Close a dispute the way the rules require: the verification goes to the customer in writing first,
    then the hold ends and collection may resume (12 CFR 1006.38; 商业银行信用卡业务监督管理办法 第70条)."""
    hold = session.get(Hold, hold_id)
    today = now.date()
    if hold is None or hold.kind != "dispute":
        raise HoldError(f"hold {hold_id} is not a dispute")
    if hold.ends_on is not None and hold.ends_on < today:
        raise HoldError(f"the dispute hold {hold_id} already ended on {hold.ends_on}")
    if not note.strip():
        raise HoldError("a note of what was verified is required")
    account = session.get(Account, hold.account_id)
    assert account is not None
    customer = session.get(Customer, account.customer_id)
    assert customer is not None
    address = session.scalars(
        sa.select(col(ContactPoint.address))
        .where(
            col(ContactPoint.customer_id) == customer.id,
            col(ContactPoint.channel) == "letter",
            col(ContactPoint.invalid_at).is_(None),
        )
        .order_by(col(ContactPoint.id))
    ).first()
    if address is None:
        raise HoldError(f"customer of account {account.id} has no postal address for the verification letter")
    rendered = renderer.render(
        "dispute_verification", "letter", customer.locale, message_context(sender, customer, account)
    )
    letter = OutreachMessage(
        idempotency_key=f"verification:{account.id}:{hold.id}",
        account_id=account.id,  # type: ignore[arg-type]
        customer_id=customer.id,  # type: ignore[arg-type]
        channel="letter",
        address=address,
        template="dispute_verification",
        locale=customer.locale,
        stage=account.stage,
        step="dispute_verification",
        purpose="verification",
        subject=rendered.subject,
        body=rendered.body,
        status="queued",
        send_at=now,
        created_at=now,
    )
    session.add(letter)
    session.flush()
    record(session, "dispute.verified", user, now, account.id, hold_id=hold.id, note=note.strip())
    record(session, "message.queued", user, now, account.id, key=letter.idempotency_key, channel="letter")
    release_hold(session, hold_id, "verification sent", user, today, now)
    account.next_action_on = today  # the cadence resumes from where the account stands today
    session.add(account)
    return letter
