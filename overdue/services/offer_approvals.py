"""Approving an offer outside the bounds: one person, or two different ones above the second thresholds
(maker-checker). The person who asked for the offer never approves it (decide_task refuses the requester);
nobody approves twice. Each approval is a conditional write on (task id, open, version), like the decision
itself, so two people clicking at once record one approval each or are told to reload."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col

from overdue.domain import stages
from overdue.services.audit import record
from overdue.services.decisions import DecisionError, KindHooks
from overdue.store.tables import Account, HumanTask, Offer


def _before(
    session: Session, task: HumanTask, status: str, expected_version: int, reason: str, user: str, now: datetime
) -> bool:
    offer = _offer(session, task)
    if offer.status != "pending_approval":
        raise DecisionError(f"offer {offer.id} is {offer.status}; there is nothing to decide on task {task.id}")
    account = session.get(Account, offer.account_id)
    if status == "approved" and account is not None and account.stage in (stages.CLOSED, stages.LEGAL):
        raise DecisionError(f"account {account.id} is now {account.stage}; offer {offer.id} no longer applies")
    if status != "approved":
        return False
    approvals = list(task.payload.get("approvals", []))
    if any(approval["by"] == user for approval in approvals):
        raise DecisionError(f"{user} already approved task {task.id}; a second, different person must approve it")
    if len(approvals) + 1 >= int(task.payload.get("approvals_needed", 1)):
        return False  # the last approval needed: decide_task records the decision
    approvals.append({"by": user, "at": now.isoformat(), "reason": reason})
    result = session.execute(
        sa.update(HumanTask)
        .where(
            col(HumanTask.id) == task.id, col(HumanTask.status) == "open", col(HumanTask.version) == expected_version
        )
        .values(payload=task.payload | {"approvals": approvals}, version=col(HumanTask.version) + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise DecisionError(f"task {task.id} changed while you were looking at it; reload and decide again")
    session.refresh(task)
    record(
        session,
        "task.approval_recorded",
        user,
        now,
        task.account_id,
        task_id=task.id,
        task_kind=task.kind,
        approvals=len(approvals),
        approvals_needed=task.payload.get("approvals_needed"),
        reason=reason,
    )
    return True


def _after(session: Session, task: HumanTask, user: str, now: datetime) -> None:
    """Approved: the offer opens for the customer to accept. Rejected: it is closed."""
    offer = _offer(session, task)
    if task.status == "approved":
        approvers = [approval["by"] for approval in task.payload.get("approvals", [])] + [user]
        offer.status, offer.approved_by = "open", ", ".join(approvers)
        record(session, "offer.approved", user, now, offer.account_id, offer_id=offer.id, approved_by=approvers)
    else:
        offer.status = "rejected"
        record(session, "offer.rejected", user, now, offer.account_id, offer_id=offer.id, reason=task.reason)
    session.add(offer)


def _offer(session: Session, task: HumanTask) -> Offer:
    offer = session.get(Offer, task.payload.get("offer_id"))
    if offer is None:
        raise DecisionError(f"task {task.id} names no offer")
    return offer


HOOKS = KindHooks(before=_before, after=_after)
