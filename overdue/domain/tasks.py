"""Rules of the human task queue: who may claim, assign and decide a task, and when its SLA is breached.

Pure functions over plain values, so each rule is tested at its boundary without a database. Each returns the
reason a step is refused or None when it is allowed, as a code with its values (overdue/domain/refusals.py).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from overdue.domain.refusals import Refusal as Refusal
from overdue.domain.refusals import Refused as Refused
from overdue.domain.refusals import refusals

OPEN, INFO_REQUESTED = "open", "info_requested"
APPROVED, REJECTED, WITHDRAWN = "approved", "rejected", "withdrawn"
PENDING = (OPEN, INFO_REQUESTED)  # not decided yet: in someone's queue
DECISIONS = {"approve": APPROVED, "reject": REJECTED, "request_info": INFO_REQUESTED}
QUEUE_MANAGERS = frozenset({"supervisor", "admin"})  # may assign, reassign and release anyone's task


REFUSALS = {
    "already": "task {task} was already {status} by {by}; nothing changed",
    "changed": "task {task} changed while you were looking at it; reload and try again",
    "needs_role": "task {task} needs the role '{role}'",
    "claimed_by": "task {task} is claimed by {assignee}; ask them or a supervisor to release it",
    "not_claimed": "task {task} is not claimed",
    "queue_managers": "only a supervisor or an admin assigns tasks to others",
    "own_request": "task {task} was requested by {user}; another person must decide it",
    "approved_twice": "you already approved task {task}; a second, different person must approve it",
    "unknown_decision": "unknown decision '{decision}' (use approve, reject or request_info)",
    "reason_required": "a reason is required",
    "already_waiting": "task {task} is already waiting for information",
    "not_waiting": "task {task} is not waiting for information",
    "stage_moved": "account {account} is now in stage '{stage}'; escalation no longer applies",
    "on_hold": "account {account} is on hold; escalation no longer applies",
    "time_barred": "account {account} became time-barred on {on} ({rule}): it is never escalated to legal action",
}


refusal = refusals(REFUSALS)


@dataclass(frozen=True, slots=True)
class TaskView:
    """What the rules need to know about a task."""

    id: int
    status: str
    role_needed: str
    requested_by: str
    assignee: str | None
    escalated_to: str | None = None


def sla_paused(status: str) -> bool:
    """A task waiting for the information its decider asked for is not late: its SLA clock stands still, and
    when the information arrives its due time moves on by the time it waited (overdue/services/tasks.py)."""
    return status == INFO_REQUESTED


def sla_breached(status: str, due_at: datetime | None, now: datetime) -> bool:
    """Breached from the due instant on, while the task is open; a task without an SLA never is."""
    return status == OPEN and due_at is not None and now >= due_at


def can_work(task: TaskView, roles: Collection[str]) -> bool:
    """The kind's role works the task; once its SLA escalated, so does the role it went to."""
    return task.role_needed in roles or (task.escalated_to is not None and task.escalated_to in roles)


def _finished(task: TaskView, by: str | None) -> Refusal | None:
    if task.status in PENDING:
        return None
    return refusal("already", task=task.id, status=task.status, by=by or "-")


def refuse_claim(task: TaskView, user: str, roles: Collection[str], by: str | None = None) -> Refusal | None:
    if finished := _finished(task, by):
        return finished
    if not can_work(task, roles):
        return refusal("needs_role", task=task.id, role=task.role_needed)
    if task.assignee not in (None, user):
        return refusal("claimed_by", task=task.id, assignee=task.assignee)
    return None


def refuse_assign(task: TaskView, roles: Collection[str], by: str | None = None) -> Refusal | None:
    if finished := _finished(task, by):
        return finished
    if not QUEUE_MANAGERS & set(roles):
        return refusal("queue_managers")
    return None


def refuse_release(task: TaskView, user: str, roles: Collection[str], by: str | None = None) -> Refusal | None:
    if finished := _finished(task, by):
        return finished
    if task.assignee is None:
        return refusal("not_claimed", task=task.id)
    if task.assignee != user and not QUEUE_MANAGERS & set(roles):
        return refusal("claimed_by", task=task.id, assignee=task.assignee)
    return None


def refuse_info_received(task: TaskView, roles: Collection[str], by: str | None = None) -> Refusal | None:
    """Whoever works the task may say the information asked for has arrived (by post, on a call, in an email)."""
    if finished := _finished(task, by):
        return finished
    if task.status != INFO_REQUESTED:
        return refusal("not_waiting", task=task.id)
    if not can_work(task, roles):
        return refusal("needs_role", task=task.id, role=task.role_needed)
    return None


def refuse_decision(
    task: TaskView,
    decision: str,
    user: str,
    roles: Collection[str],
    approved_by: Collection[str] = (),
    by: str | None = None,
) -> Refusal | None:
    """Maker-checker: the person who requested a task never decides it, and nobody approves twice.
    Deciding takes the kind's role (an escalated SLA lets the supervisor chase the task, not decide it)."""
    if decision not in DECISIONS:
        return refusal("unknown_decision", decision=decision)
    if task.requested_by == user:
        return refusal("own_request", task=task.id, user=user)
    if finished := _finished(task, by):
        return finished
    if task.role_needed not in roles:
        return refusal("needs_role", task=task.id, role=task.role_needed)
    if task.assignee not in (None, user):
        return refusal("claimed_by", task=task.id, assignee=task.assignee)
    if decision == "approve" and user in approved_by:
        return refusal("approved_twice", task=task.id)
    if decision == "request_info" and task.status == INFO_REQUESTED:
        return refusal("already_waiting", task=task.id)
    return None
