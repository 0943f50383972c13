"""Pause an account on a date range, back-dated if need be, and resume it: the clock of its collection stops.

A pause is a hold of kind `pause` (overdue/services/holds.py): it stops offers and escalation like any hold,
and the cycle neither changes the account's stage nor queues it a message while it lasts. Days past due and
cadences then count on as if the paused days had not happened (overdue/domain/pauses.py).

Pausing cancels the queued messages due on a paused day (in the customer's time zone) and frees their keys:
the step they carried comes again once the pause is over, on its shifted date, instead of being lost.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col

from overdue.domain.flags import PAUSE
from overdue.domain.pauses import Pause
from overdue.services.audit import SYSTEM, audit_row, record_many
from overdue.services.condition_facts import load_pauses
from overdue.services.decisions import withdraw_open_escalations
from overdue.services.holds import HoldError, new_hold, release_hold
from overdue.store.tables import Account, Customer, Hold, OutreachMessage

PAUSED = "paused"


def pause_account(
    session: Session,
    account_id: int,
    starts_on: date,
    ends_on: date | None,
    reason: str,
    user: str,
    today: date,
    now: datetime,
) -> Hold:
    """`ends_on` is the last paused day (None: until resumed). Refused if it overlaps another pause."""
    existing = load_pauses(session, col(Hold.account_id) == account_id).get(account_id, [])
    wanted = Pause(starts_on, ends_on)
    for other in existing:
        if _overlap(wanted, other):
            until = other.end.isoformat() if other.end else "until resumed"
            raise HoldError(f"account {account_id} is already paused from {other.start.isoformat()} ({until})")
    hold = new_hold(session, account_id, PAUSE, reason, user, starts_on, now, ends_on)
    cancel_paused_messages(session, account_id, wanted, hold.id, today, user, now)  # type: ignore[arg-type]
    if wanted.covers(today):
        withdraw_open_escalations(session, account_id, "account paused", user, now)
    return hold


def resume_account(session: Session, account_id: int, on: date, reason: str, user: str, now: datetime) -> Hold:
    """End the account's pause so that `on` is its first day of collection again (back-dated if need be)."""
    pauses = session.scalars(
        sa.select(Hold)
        .where(col(Hold.account_id) == account_id, col(Hold.kind) == PAUSE, col(Hold.starts_on) <= on)
        .where(sa.or_(col(Hold.ends_on).is_(None), col(Hold.ends_on) >= on))
    ).all()
    if not pauses:
        raise HoldError(f"account {account_id} is not paused on {on.isoformat()}")
    return release_hold(session, pauses[0].id, reason, user, on, now)  # type: ignore[arg-type]


def cancel_while_paused(session: Session, as_of: date, now: datetime, shard: tuple[int, int]) -> int:
    """The cycle's first step on a business date: an account paused on `as_of` that still has queued messages
    (one queued the day before and not sent yet, one the contact window deferred into the pause) has them
    cancelled and their keys freed, as at pausing. Usually no row."""
    paused = session.execute(
        sa.select(col(Hold.id), col(Hold.account_id), col(Hold.starts_on), col(Hold.ends_on))
        .where(col(Hold.account_id).between(*shard), col(Hold.kind) == PAUSE, col(Hold.starts_on) <= as_of)
        .where(sa.or_(col(Hold.ends_on).is_(None), col(Hold.ends_on) >= as_of))
        .where(
            sa.exists().where(
                col(OutreachMessage.account_id) == col(Hold.account_id), col(OutreachMessage.status) == "queued"
            )
        )
    ).all()
    return sum(
        cancel_paused_messages(session, account_id, Pause(start, end), hold_id, as_of, SYSTEM, now)
        for hold_id, account_id, start, end in paused
    )


def cancel_paused_messages(
    session: Session, account_id: int, pause: Pause, hold_id: int, today: date, actor: str, now: datetime
) -> int:
    """Cancel the queued messages that would go out while paused: all of them if the pause covers `today`, else
    those due on a paused local day. Their keys are renamed (`...~pause{hold}`) so that the cycle may queue
    their step again after the pause."""
    zone = session.scalar(
        sa.select(col(Customer.time_zone))
        .join(Account, col(Account.customer_id) == col(Customer.id))
        .where(col(Account.id) == account_id)
    )
    queued = session.scalars(
        sa.select(OutreachMessage).where(
            col(OutreachMessage.account_id) == account_id, col(OutreachMessage.status) == "queued"
        )
    ).all()
    assert zone is not None
    cancelled = 0
    for message in queued:
        assert message.send_at is not None
        if pause.covers(today) or pause.covers(message.send_at.astimezone(ZoneInfo(zone)).date()):
            message.status, message.error = "cancelled", PAUSED
            message.idempotency_key = f"{message.idempotency_key}~pause{hold_id}"
            session.add(message)
            cancelled += 1
    if cancelled:
        record_many(session, [audit_row("message.cancelled", actor, now, account_id, count=cancelled, reason=PAUSED)])
    return cancelled


def _overlap(a: Pause, b: Pause) -> bool:
    far = date.max - timedelta(days=1)
    return a.start <= (b.end or far) and b.start <= (a.end or far)
