"""Deciding a hardship review, the person's look at a customer's reported hardship (and its evidence) while the
hardship hold stops collection.

Approved, the forbearance stands: the hardship hold runs for `hardship_forbearance_days` from today
(configs/tasks.yaml; an open-ended hold gets that end, one set to end later keeps its own), interest and fees
stay frozen where the policy says so, and the customer is offered the interest-suspended plan (停息分期) sized to
their capacity to pay, for an agent or the self-service pages to put to them. Rejected, the hold is lifted and
collection resumes today."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col

from overdue.domain import stages
from overdue.domain import tasks as rules
from overdue.domain.offers import INTEREST_SUSPENDED, Request
from overdue.runtime import runtime_of
from overdue.services.affordability import HARDSHIP, hardship_hold
from overdue.services.audit import record
from overdue.services.decisions import KindHooks
from overdue.services.holds import place_hold, release_hold
from overdue.services.offers import OfferError, make_offer
from overdue.store.tables import Account, HumanTask, Offer

NO_NEW_OFFER = (stages.CLOSED, stages.LEGAL, stages.PLAN)  # nothing to offer, or a plan already runs


def _after(session: Session, task: HumanTask, user: str, now: datetime) -> None:
    if task.status == rules.APPROVED:
        _forbear(session, task, user, now)
    elif task.status == rules.REJECTED:
        _resume(session, task, user, now)


def _forbear(session: Session, task: HumanTask, user: str, now: datetime) -> None:
    config = runtime_of(session).config
    today = now.date()
    until = today + timedelta(days=config.tasks.hardship_forbearance_days - 1)  # ends_on: the last held day
    hold = hardship_hold(session, task.account_id, today)
    if hold is None:
        hold = place_hold(session, task.account_id, HARDSHIP, f"hardship review {task.id}", user, today, now, until)
    elif hold.ends_on is None or hold.ends_on < until:
        hold.ends_on = until
        session.add(hold)
    record(
        session,
        "hardship.forbearance",
        user,
        now,
        task.account_id,
        task_id=task.id,
        hold_id=hold.id,
        until=hold.ends_on.isoformat() if hold.ends_on else None,
        reason=task.reason,
    )
    account = session.get(Account, task.account_id)
    assert account is not None
    if account.stage in NO_NEW_OFFER or _has_offer(session, task.account_id):
        return
    try:
        offer = make_offer(session, config, task.account_id, Request(kind=INTEREST_SUSPENDED), user, now)
    except OfferError as exc:  # the forbearance stands; a person makes the offer by hand
        record(session, "hardship.no_offer", user, now, task.account_id, task_id=task.id, why=str(exc))
        return
    record(session, "hardship.offer", user, now, task.account_id, task_id=task.id, offer_id=offer.id)


def _resume(session: Session, task: HumanTask, user: str, now: datetime) -> None:
    today = now.date()
    hold = hardship_hold(session, task.account_id, today)
    if hold is not None:
        release_hold(session, hold.id, f"hardship review {task.id} rejected: {task.reason}", user, today, now)  # type: ignore[arg-type]
    account = session.get(Account, task.account_id)
    assert account is not None
    account.next_action_on = today
    session.add(account)
    record(session, "hardship.declined", user, now, task.account_id, task_id=task.id, reason=task.reason)


def _has_offer(session: Session, account_id: int) -> bool:
    return bool(
        session.scalar(
            sa.select(sa.func.count()).where(
                col(Offer.account_id) == account_id, col(Offer.status).in_(("open", "pending_approval"))
            )
        )
    )


HOOKS = KindHooks(after=_after)
