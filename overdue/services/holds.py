"""Holds stop collection contact, offers and escalation while active (dispute, hardship, bankruptcy, ...).

Placing a hold cancels the account's queued messages at once; the cycle skips held accounts.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col

from overdue.domain.flags import DISPUTE as DISPUTE  # re-exported: callers import it from here
from overdue.domain.flags import HOLD_KINDS
from overdue.domain.refusals import Refused
from overdue.services.audit import record
from overdue.services.decisions import withdraw_open_escalations
from overdue.services.outreach import cancel_queued
from overdue.services.refusal_texts import refusal
from overdue.store.tables import Account, Hold


class HoldError(Refused):
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
    details: dict[str, object] | None = None,
) -> Hold:
    """`details` go into the audit record; a dispute is also recorded as `dispute.opened` with them."""
    if kind not in HOLD_KINDS:
        raise HoldError(refusal("unknown_hold_kind", kind=kind, choices=", ".join(HOLD_KINDS)))
    hold = new_hold(session, account_id, kind, reason, user, starts_on, now, ends_on)
    if kind == DISPUTE:
        record(session, "dispute.opened", user, now, account_id, hold_id=hold.id, reason=hold.reason, **(details or {}))
    if starts_on <= now.date():
        cancel_queued(session, account_id, f"{kind} hold", user, now)
        withdraw_open_escalations(session, account_id, f"{kind} hold", user, now)
    return hold


def new_hold(
    session: Session,
    account_id: int,
    kind: str,
    reason: str,
    user: str,
    starts_on: date,
    now: datetime,
    ends_on: date | None = None,
) -> Hold:
    """The hold row and its `hold.placed` record, checked; what stops because of it is the caller's to do."""
    if not reason.strip():
        raise HoldError(refusal("hold_reason_required"))
    if ends_on is not None and ends_on < starts_on:
        raise HoldError(refusal("hold_ends_before_start"))
    if session.get(Account, account_id) is None:
        raise HoldError(refusal("no_account", account=account_id))
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
    dates = {"starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat() if ends_on else None}
    record(session, "hold.placed", user, now, account_id, hold_id=hold.id, hold_kind=kind, reason=hold.reason, **dates)
    return hold


def release_hold(
    session: Session, hold_id: int, reason: str, user: str, today: date, now: datetime, resolution: str = "released"
) -> Hold:
    """End a hold today. Ending a dispute resolves it: `resolution` says how (verified, withdrawn, ...)."""
    hold = session.get(Hold, hold_id)
    if hold is None:
        raise HoldError(refusal("no_hold", hold=hold_id))
    if hold.ends_on is not None and hold.ends_on < today:
        raise HoldError(refusal("hold_ended", hold=hold_id, on=hold.ends_on))
    if not reason.strip():
        raise HoldError(refusal("hold_reason_required"))
    hold.ends_on = today - timedelta(days=1)  # ends_on is the last held day: contact may resume today
    session.add(hold)
    record(session, "hold.released", user, now, hold.account_id, hold_id=hold.id, reason=reason.strip())
    if hold.kind == DISPUTE:
        record(
            session,
            "dispute.resolved",
            user,
            now,
            hold.account_id,
            hold_id=hold.id,
            resolution=resolution,
            reason=reason,
        )
    return hold


def holds_of(session: Session, account_id: int) -> list[Hold]:
    query = sa.select(Hold).where(col(Hold.account_id) == account_id).order_by(col(Hold.id))
    return list(session.scalars(query))


def hold_in_force(session: Session, account_id: int, kind: str, today: date, preferred: object = None) -> Hold | None:
    """The account's `kind` hold in force today: `preferred` (a hold id a task names) when it is one of them,
    else the earliest placed."""
    holds = session.scalars(
        sa.select(Hold)
        .where(
            col(Hold.account_id) == account_id,
            col(Hold.kind) == kind,
            col(Hold.starts_on) <= today,
            sa.or_(col(Hold.ends_on).is_(None), col(Hold.ends_on) >= today),
        )
        .order_by(col(Hold.id))
    ).all()
    return next((hold for hold in holds if hold.id == preferred), holds[0] if holds else None)
