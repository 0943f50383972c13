"""People decide human tasks here. A decision is a conditional write on (id, pending status, version), so two
people deciding the same task at once end with exactly one decision and a message to the other.

What a decision sets in motion belongs to its kind and is kept with the kind's service (`KindHooks`, found
through `HOOKS_OF`): an approved legal escalation opens its legal case in the same transaction (its demand
letter is started right after the commit by overdue/services/continuation.py), a verified dispute sends the
verification and resumes collection, and so on. Whatever a hook does commits with the decision, or not at all."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col

from overdue.domain import tasks as rules
from overdue.services.audit import record
from overdue.services.cycle import LEGAL_ESCALATION
from overdue.services.tasks import approvers, view
from overdue.store.tables import HumanTask, TaskActivity


class DecisionError(rules.Refused):
    """The decision was not recorded; the message (and its refusal code) says why."""


def no_objection(
    session: Session, task: HumanTask, status: str, expected_version: int, reason: str, user: str, now: datetime
) -> bool:
    """The `before` of a kind with no rules of its own about whether it may be decided."""
    return False


@dataclass(frozen=True)
class KindHooks:
    """A task kind's own rules, kept with its service. `after(session, task, user, now)` continues a final
    decision (approved, rejected or info_requested; `task.reason` is the decider's reason). `before(session,
    task, status, expected_version, reason, user, now)` may refuse (DecisionError), or take the decision over
    and return True (the task is left as the hook left it); False lets the queue's rules decide."""

    after: Callable[[Session, HumanTask, str, datetime], None]
    before: Callable[[Session, HumanTask, str, int, str, str, datetime], bool] = no_objection


HOOKS_OF = {  # kind: the module whose HOOKS continue its decisions; imported late, as they import this module
    LEGAL_ESCALATION: "overdue.services.escalation_decisions",
    "offer_approval": "overdue.services.offer_approvals",
    "dispute_review": "overdue.services.dispute_reviews",
    "hardship_review": "overdue.services.hardship_reviews",
    "vulnerability_review": "overdue.services.vulnerability_reviews",
    "complaint": "overdue.services.complaints",
}


def _kind_hooks(kind: str) -> KindHooks | None:
    module = HOOKS_OF.get(kind)
    if module is None:
        return None
    hooks: KindHooks = importlib.import_module(module).HOOKS
    return hooks


def decide_task(
    session: Session,
    task_id: int,
    expected_version: int,
    decision: str,
    reason: str,
    user: str,
    now: datetime,
    roles: Collection[str],
) -> HumanTask:
    """Approve, reject or request information, as `user` holding `roles`. A legal escalation needing two
    approvals stays open after the first (status open, one `approval` activity) and is approved by a second,
    different person. The returned task says what happened: approved, rejected, info_requested, or still
    open awaiting the second approval."""
    reason, user = reason.strip(), user.strip()
    if not reason:
        raise DecisionError(rules.refusal("reason_required"))
    if not user:
        raise DecisionError("the person deciding must be named")
    task = session.get(HumanTask, task_id)
    if task is None:
        raise DecisionError(f"task {task_id} does not exist")
    approved_by = approvers(session, task_id)
    refused = rules.refuse_decision(view(task), decision, user, roles, approved_by, task.decided_by)
    if refused is not None:
        raise DecisionError(refused)
    hooks = _kind_hooks(task.kind)
    if hooks is not None and hooks.before(
        session, task, rules.DECISIONS[decision], expected_version, reason, user, now
    ):
        return task
    final = decision != "approve" or len(approved_by) + 1 >= int(task.payload.get("approvals_needed", 1))
    values: dict[str, object]
    if not final:
        values = {}  # the first of two approvals: the version moves, so a stale form cannot approve again
    else:
        values = {"status": rules.DECISIONS[decision], "decided_by": user, "decided_at": now, "reason": reason}
    result = session.execute(
        sa.update(HumanTask)
        .where(
            col(HumanTask.id) == task_id,
            col(HumanTask.status).in_(rules.PENDING),
            col(HumanTask.version) == expected_version,
        )
        .values(**values, version=col(HumanTask.version) + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(task)
        if task.status not in rules.PENDING:
            raise DecisionError(already(task))
        raise DecisionError(rules.refusal("changed", task=task_id))
    session.refresh(task)
    if not final:
        session.add(TaskActivity(task_id=task_id, kind="approval", actor=user, at=now, text=reason))
        record(session, "task.approval_recorded", user, now, task.account_id, task_id=task_id, task_kind=task.kind)
        return task
    kind = {"approve": "approval", "reject": "rejection", "request_info": "info_requested"}[decision]
    session.add(TaskActivity(task_id=task_id, kind=kind, actor=user, at=now, text=reason))
    record(
        session,
        "task.decided",
        user,
        now,
        task.account_id,
        task_id=task_id,
        task_kind=task.kind,
        decision=task.status,
        reason=reason,
        approvers=[*approved_by, user] if decision == "approve" else None,
    )
    if hooks is not None:
        hooks.after(session, task, user, now)
    return task


def withdraw_open_escalations(session: Session, account_id: int, reason: str, actor: str, now: datetime) -> int:
    """An account that left negotiation (a plan was accepted, it was paid, it went on hold) no longer needs
    the escalation a person has not decided yet: the task is withdrawn, so nobody approves a stale one."""
    return withdraw_pending(session, account_id, LEGAL_ESCALATION, reason, actor, now)


def withdraw_pending(session: Session, account_id: int, kind: str, reason: str, actor: str, now: datetime) -> int:
    """The account's undecided `kind` tasks are withdrawn (what they asked is settled another way), audited."""
    open_tasks = list(
        session.scalars(
            sa.select(col(HumanTask.id)).where(
                col(HumanTask.account_id) == account_id,
                col(HumanTask.kind) == kind,
                col(HumanTask.status).in_(rules.PENDING),
            )
        )
    )
    if not open_tasks:
        return 0
    session.execute(
        sa.update(HumanTask)
        .where(col(HumanTask.id).in_(open_tasks), col(HumanTask.status).in_(rules.PENDING))
        .values(status="withdrawn", decided_by=actor, decided_at=now, reason=reason, version=col(HumanTask.version) + 1)
        .execution_options(synchronize_session=False)
    )
    for task_id in open_tasks:
        record(session, "task.withdrawn", actor, now, account_id, task_id=task_id, reason=reason)
    return len(open_tasks)


def already(task: HumanTask) -> rules.Refusal:
    return rules.refusal("already", task=task.id, status=task.status, by=task.decided_by)
