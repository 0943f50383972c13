"""Rules of the human task queue: who may claim, assign and decide a task, and when its SLA is breached.

Pure functions over plain values, so each rule is tested at its boundary without a database. Each returns the
reason a step is refused (a sentence fit for the person who tried) or None when it is allowed.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

OPEN, INFO_REQUESTED = "open", "info_requested"
APPROVED, REJECTED, WITHDRAWN = "approved", "rejected", "withdrawn"
PENDING = (OPEN, INFO_REQUESTED)  # not decided yet: in someone's queue
DECISIONS = {"approve": APPROVED, "reject": REJECTED, "request_info": INFO_REQUESTED}
QUEUE_MANAGERS = frozenset({"supervisor", "admin"})  # may assign, reassign and release anyone's task


@dataclass(frozen=True, slots=True)
class TaskView:
    """What the rules need to know about a task."""

    id: int
    status: str
    role_needed: str
    requested_by: str
    assignee: str | None
    escalated_to: str | None = None


def sla_breached(due_at: datetime | None, now: datetime) -> bool:
    """Breached from the due instant on; a task without an SLA never is."""
    return due_at is not None and now >= due_at


def can_work(task: TaskView, roles: Collection[str]) -> bool:
    """The kind's role works the task; once its SLA escalated, so does the role it went to."""
    return task.role_needed in roles or (task.escalated_to is not None and task.escalated_to in roles)


def refuse_claim(task: TaskView, user: str, roles: Collection[str]) -> str | None:
    if task.status not in PENDING:
        return f"task {task.id} is already {task.status}"
    if not can_work(task, roles):
        return f"task {task.id} needs the role '{task.role_needed}'"
    if task.assignee not in (None, user):
        return f"task {task.id} is already claimed by {task.assignee}"
    return None


def refuse_assign(task: TaskView, roles: Collection[str]) -> str | None:
    if task.status not in PENDING:
        return f"task {task.id} is already {task.status}"
    if not QUEUE_MANAGERS & set(roles):
        return "only a supervisor or an admin assigns tasks to others"
    return None


def refuse_release(task: TaskView, user: str, roles: Collection[str]) -> str | None:
    if task.status not in PENDING:
        return f"task {task.id} is already {task.status}"
    if task.assignee is None:
        return f"task {task.id} is not claimed"
    if task.assignee != user and not QUEUE_MANAGERS & set(roles):
        return f"task {task.id} is claimed by {task.assignee}; only they or a supervisor may release it"
    return None


def refuse_decision(
    task: TaskView, decision: str, user: str, roles: Collection[str], approved_by: Collection[str] = ()
) -> str | None:
    """Maker-checker: the person who requested a task never decides it, and nobody approves twice.
    Deciding takes the kind's role (an escalated SLA lets the supervisor chase the task, not decide it)."""
    if decision not in DECISIONS:
        return f"unknown decision '{decision}' (use approve, reject or request_info)"
    if task.requested_by == user:
        return f"task {task.id} was requested by {user}; another person must decide it"
    if task.status not in PENDING:
        return f"task {task.id} was already {task.status}"
    if task.role_needed not in roles:
        return f"deciding task {task.id} needs the role '{task.role_needed}'"
    if task.assignee not in (None, user):
        return f"task {task.id} is claimed by {task.assignee}; ask them or a supervisor to release it"
    if decision == "approve" and user in approved_by:
        return f"you already approved task {task.id}; a second, different person must approve it"
    return None
