"""Deciding a dispute review, the person's check of a disputed debt while its dispute hold stops collection.

Approved, the debt is verified: the verification letter goes to the customer, then the hold ends and the account's
next step is today (overdue/services/disputes.py `verify_dispute`, the order the rules require). Rejected, the
dispute is upheld: the debt could not be verified, so collection stays stopped for good (12 CFR 1006.38: no
collection until verification is sent). The dispute hold stays in force with no end, the account has no next
step, queued messages and open offers are withdrawn, and `dispute.resolved` says `upheld` with the reason. A
person may still release the hold later (`overdue casework release-hold`) if the creditor's evidence arrives."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from overdue.config.models import Tasks
from overdue.domain import tasks as rules
from overdue.runtime import runtime_of
from overdue.services.audit import record
from overdue.services.auto_tasks import open_once
from overdue.services.decisions import DecisionError, KindHooks, withdraw_open_escalations
from overdue.services.disputes import DISPUTE_REVIEW, verify_dispute
from overdue.services.holds import DISPUTE, HoldError, hold_in_force, place_hold
from overdue.services.offers import withdraw_other_offers
from overdue.services.outreach import cancel_queued
from overdue.store.tables import Account, Hold, HumanTask

UPHELD = "upheld"


def open_review(
    session: Session, tasks: Tasks, account_id: int, payload: dict[str, Any], actor: str, now: datetime
) -> bool:
    """A dispute read in a customer's reply goes to a supervisor, once per account (False: one is pending)."""
    kind = tasks.kind(DISPUTE_REVIEW)
    return bool(open_once(session, DISPUTE_REVIEW, kind.role, kind.sla_hours, {account_id: payload}, actor, now))


def _before(
    session: Session, task: HumanTask, status: str, expected_version: int, reason: str, user: str, now: datetime
) -> bool:
    if status == rules.APPROVED and _dispute(session, task, now) is None:
        raise DecisionError(f"account {task.account_id} has no dispute in force to verify (task {task.id})")
    return False


def _after(session: Session, task: HumanTask, user: str, now: datetime) -> None:
    reason = task.reason or ""
    if task.status == rules.APPROVED:
        hold = _dispute(session, task, now)
        assert hold is not None
        assert hold.id is not None
        runtime = runtime_of(session)
        try:
            verify_dispute(session, runtime.renderer, runtime.sender, hold.id, reason, user, now)
        except HoldError as exc:  # no postal address: nothing is recorded, the reviewer is told why
            raise DecisionError(str(exc)) from None
    elif task.status == rules.REJECTED:
        _uphold(session, task, reason, user, now)


def _uphold(session: Session, task: HumanTask, reason: str, user: str, now: datetime) -> None:
    hold = _dispute(session, task, now) or place_hold(
        session, task.account_id, DISPUTE, f"dispute upheld on review (task {task.id})", user, now.date(), now
    )
    account = session.get(Account, task.account_id)
    assert account is not None
    assert account.id is not None
    account.next_action_on = None  # nothing more is scheduled: the hold has no end
    session.add(account)
    cancel_queued(session, account.id, "dispute upheld", user, now)
    withdraw_other_offers(session, account.id, "dispute upheld", user, now)
    withdraw_open_escalations(session, account.id, "dispute upheld", user, now)
    record(
        session,
        "dispute.resolved",
        user,
        now,
        account.id,
        hold_id=hold.id,
        task_id=task.id,
        resolution=UPHELD,
        reason=reason,
    )


def _dispute(session: Session, task: HumanTask, now: datetime) -> Hold | None:
    return hold_in_force(session, task.account_id, DISPUTE, now.date(), task.payload.get("hold_id"))


HOOKS = KindHooks(before=_before, after=_after)
