"""People decide human tasks here. A decision is a conditional write on (id, pending status, version), so two
people deciding the same task at once end with exactly one decision and a message to the other.

An approved legal escalation opens its legal case in the same transaction; what follows (the demand letter)
is started right after the commit by overdue/services/continuation.py, and the daily cycle picks up any case
whose start was lost."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Session, col

from overdue.domain import stages
from overdue.domain import tasks as rules
from overdue.services.audit import record, record_many, stage_changed
from overdue.services.contact_guard import VULNERABILITY_REVIEW
from overdue.services.cycle import LEGAL_ESCALATION
from overdue.services.outreach import active_hold, cancel_queued
from overdue.services.tasks import approvers, view
from overdue.store.tables import Account, Customer, HumanTask, LegalCase, Offer, TaskActivity


class DecisionError(rules.Refused):
    """The decision was not recorded; the message (and its refusal code) says why."""


@dataclass(frozen=True)
class KindHooks:
    """A task kind's own rules, kept with its service. `before(session, task, status, expected_version, reason,
    user, now)` may refuse (DecisionError), or take the decision over and return True (the task is left as the
    hook left it); False lets the queue's rules decide. `after(session, task, user, now)` continues a final
    decision."""

    before: Callable[[Session, HumanTask, str, int, str, str, datetime], bool]
    after: Callable[[Session, HumanTask, str, datetime], None]


def _kind_hooks(kind: str) -> KindHooks | None:
    """Imported late: those services import this module."""
    if kind == "offer_approval":
        from overdue.services.offer_approvals import HOOKS

        return HOOKS
    return None


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
    if task.kind == LEGAL_ESCALATION and decision == "approve":
        try:
            _still_escalable(session, task, now)
        except DecisionError:
            session.refresh(task)  # a colleague's approval may be what moved the account: say that instead
            if task.status not in rules.PENDING:
                raise DecisionError(_already(task)) from None
            raise
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
            raise DecisionError(_already(task))
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
    if task.kind == LEGAL_ESCALATION and task.status == rules.APPROVED:
        open_legal_case(session, task, ", ".join([*approved_by, user])[:64], now)
    if task.kind == LEGAL_ESCALATION and task.status == rules.REJECTED:
        _back_to_negotiation(session, task, user, now)
    if task.kind == VULNERABILITY_REVIEW and task.status == rules.APPROVED:
        _record_review(session, task, user, now)
    if hooks is not None:
        hooks.after(session, task, user, now)
    return task


def _back_to_negotiation(session: Session, task: HumanTask, user: str, now: datetime) -> None:
    """A rejected escalation: negotiation goes on from today, with the reason on the account's record (the
    escalation cool-off keeps the same proposal from coming straight back)."""
    account = session.get(Account, task.account_id)
    assert account is not None
    account.next_action_on = now.date()
    session.add(account)
    record(session, "escalation.rejected", user, now, account.id, task_id=task.id, reason=task.reason)


def _record_review(session: Session, task: HumanTask, user: str, now: datetime) -> None:
    """A specialist cleared further contact for a vulnerable customer; the guard lets the next step through."""
    account = session.get(Account, task.account_id)
    assert account is not None
    customer = session.get(Customer, account.customer_id)
    assert customer is not None
    customer.vulnerability_reviewed_on = now.date()
    account.next_action_on = now.date()  # the step that was stopped is tried again at the next cycle
    session.add_all([customer, account])
    record(session, "vulnerability.reviewed", user, now, account.id, task_id=task.id)


def withdraw_open_escalations(session: Session, account_id: int, reason: str, actor: str, now: datetime) -> int:
    """An account that left negotiation (a plan was accepted, it was paid, it went on hold) no longer needs
    the escalation a person has not decided yet: the task is withdrawn, so nobody approves a stale one."""
    open_tasks = list(
        session.scalars(
            sa.select(col(HumanTask.id)).where(
                col(HumanTask.account_id) == account_id,
                col(HumanTask.kind) == LEGAL_ESCALATION,
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


def _already(task: HumanTask) -> rules.Refusal:
    return rules.refusal("already", task=task.id, status=task.status, by=task.decided_by)


def _still_escalable(session: Session, task: HumanTask, now: datetime) -> None:
    """Defence in depth behind withdrawal: never escalate an account that has moved on since the task."""
    account = session.get(Account, task.account_id)
    assert account is not None
    if account.stage not in stages.ESCALABLE:
        raise DecisionError(rules.refusal("stage_moved", account=account.id, stage=account.stage))
    if session.scalar(sa.select(active_hold(now.date())).where(col(Account.id) == account.id)):
        raise DecisionError(rules.refusal("on_hold", account=account.id))
    barred_on = task.payload.get("time_barred_on")
    if barred_on is not None and now.date() >= date.fromisoformat(barred_on):
        raise DecisionError(
            rules.refusal("time_barred", account=account.id, on=barred_on, rule=task.payload.get("time_bar_rule"))
        )


def open_legal_case(session: Session, task: HumanTask, user: str, now: datetime) -> LegalCase:
    """The continuation of an approved escalation: the account leaves collection outreach for counsel."""
    account = session.get(Account, task.account_id)
    assert account is not None
    case = LegalCase(
        account_id=account.id,  # type: ignore[arg-type]
        task_id=task.id,  # type: ignore[arg-type]
        balance_minor=account.balance_minor,
        opened_on=now.date(),
        approved_by=user,
    )
    session.add(case)
    previous = account.stage
    account.stage, account.stage_entered_on, account.next_action_on = stages.LEGAL, now.date(), None
    account.version += 1
    session.add(account)
    session.flush()
    cancel_queued(session, account.id, "escalated to legal", user, now)  # type: ignore[arg-type]
    session.execute(
        sa.update(Offer)
        .where(col(Offer.account_id) == account.id, col(Offer.status) == "open")
        .values(status="withdrawn")
        .execution_options(synchronize_session=False)
    )
    record_many(session, stage_changed(user, now, account.id, previous, stages.LEGAL, task_id=task.id))  # type: ignore[arg-type]
    record(session, "legal_case.opened", user, now, account.id, case_id=case.id, balance_minor=case.balance_minor)
    return case
