"""Approving an offer outside the bounds: one person, or two different ones above the second thresholds
(maker-checker). The person who asked for the offer never approves it (decide_task refuses the requester);
nobody approves twice. Each approval is a conditional write on (task id, open, version), like the decision
itself, so two people clicking at once record one approval each or are told to reload."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from overdue.domain import stages
from overdue.services.audit import record
from overdue.services.decisions import DecisionError, KindHooks
from overdue.services.tasks import approvers
from overdue.store.tables import Account, HumanTask, Offer


def _before(
    session: Session, task: HumanTask, status: str, expected_version: int, reason: str, user: str, now: datetime
) -> bool:
    """Refuses a decision the offer no longer allows; the queue's own rules (overdue/services/decisions.py)
    do the rest, the second approval above the thresholds included."""
    offer = _offer(session, task)
    if offer.status != "pending_approval":
        raise DecisionError(f"offer {offer.id} is {offer.status}; there is nothing to decide on task {task.id}")
    account = session.get(Account, offer.account_id)
    if status == "approved" and account is not None and account.stage in (stages.CLOSED, stages.LEGAL):
        raise DecisionError(f"account {account.id} is now {account.stage}; offer {offer.id} no longer applies")
    return False


def _after(session: Session, task: HumanTask, user: str, now: datetime) -> None:
    """Approved: the offer opens for the customer to accept. Rejected: it is closed. Information requested: it
    waits, as the task does."""
    offer = _offer(session, task)
    if task.status == "approved":
        approved_by = approvers(session, task.id)  # type: ignore[arg-type]
        offer.status, offer.approved_by = "open", ", ".join(approved_by)
        record(session, "offer.approved", user, now, offer.account_id, offer_id=offer.id, approved_by=approved_by)
    elif task.status == "rejected":
        offer.status = "rejected"
        record(session, "offer.rejected", user, now, offer.account_id, offer_id=offer.id, reason=task.reason)
    session.add(offer)


def _offer(session: Session, task: HumanTask) -> Offer:
    offer = session.get(Offer, task.payload.get("offer_id"))
    if offer is None:
        raise DecisionError(f"task {task.id} names no offer")
    return offer


HOOKS = KindHooks(before=_before, after=_after)
