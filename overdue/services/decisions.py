"""People decide human tasks here. A decision is a conditional write, so two people deciding the same
task at once end with exactly one decision; its continuation runs in the same transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Session, col

from overdue.domain import stages
from overdue.services.audit import record, record_many, stage_changed
from overdue.services.contact_guard import VULNERABILITY_REVIEW
from overdue.services.cycle import LEGAL_ESCALATION
from overdue.services.outreach import active_hold, cancel_queued
from overdue.store.tables import Account, Customer, HumanTask, LegalCase, Offer

DECISIONS = {"approve": "approved", "reject": "rejected"}


class DecisionError(ValueError):
    """The decision was not recorded; the message says why, in words fit for the person who tried."""


@dataclass(frozen=True)
class KindHooks:
    """A task kind's own rules, kept with its service. `before(session, task, status, expected_version, reason,
    user, now)` may refuse (DecisionError) or record one of several approvals and return True: the task then
    stays open for the next person. `after(session, task, user, now)` continues the decision."""

    before: Callable[[Session, HumanTask, str, int, str, str, datetime], bool]
    after: Callable[[Session, HumanTask, str, datetime], None]


def _kind_hooks(kind: str) -> KindHooks | None:
    """Imported late: those services import this module."""
    if kind == "offer_approval":
        from overdue.services.offer_approvals import HOOKS

        return HOOKS
    return None


def decide_task(
    session: Session, task_id: int, expected_version: int, decision: str, reason: str, user: str, now: datetime
) -> HumanTask:
    if decision not in DECISIONS:
        raise DecisionError(f"unknown decision '{decision}' (use approve or reject)")
    if not reason.strip():
        raise DecisionError("a reason is required")
    user = user.strip()
    if not user:
        raise DecisionError("the person deciding must be named")
    task = session.get(HumanTask, task_id)
    if task is None:
        raise DecisionError(f"task {task_id} does not exist")
    if task.requested_by == user:
        raise DecisionError(f"task {task_id} was requested by {user}; another person must decide it")
    if task.status != "open":
        raise DecisionError(_already(task))
    status = DECISIONS[decision]
    hooks = _kind_hooks(task.kind)
    if hooks is not None and hooks.before(session, task, status, expected_version, reason.strip(), user, now):
        return task
    if task.kind == LEGAL_ESCALATION and status == "approved":
        try:
            _still_escalable(session, task, now)
        except DecisionError:
            session.refresh(task)  # a colleague's approval may be what moved the account: say that instead
            if task.status != "open":
                raise DecisionError(_already(task)) from None
            raise
    result = session.execute(
        sa.update(HumanTask)
        .where(
            col(HumanTask.id) == task_id, col(HumanTask.status) == "open", col(HumanTask.version) == expected_version
        )
        .values(
            status=status, decided_by=user, decided_at=now, reason=reason.strip(), version=col(HumanTask.version) + 1
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(task)
        if task.status != "open":
            raise DecisionError(_already(task))
        raise DecisionError(f"task {task_id} changed while you were looking at it; reload and decide again")
    session.refresh(task)
    record(
        session,
        "task.decided",
        user,
        now,
        task.account_id,
        task_id=task_id,
        task_kind=task.kind,
        decision=status,
        reason=task.reason,
    )
    if task.kind == LEGAL_ESCALATION and status == "approved":
        open_legal_case(session, task, user, now)
    if task.kind == VULNERABILITY_REVIEW and status == "approved":
        _record_review(session, task, user, now)
    if hooks is not None:
        hooks.after(session, task, user, now)
    return task


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
                col(HumanTask.status) == "open",
            )
        )
    )
    if not open_tasks:
        return 0
    session.execute(
        sa.update(HumanTask)
        .where(col(HumanTask.id).in_(open_tasks), col(HumanTask.status) == "open")
        .values(status="withdrawn", decided_by=actor, decided_at=now, reason=reason, version=col(HumanTask.version) + 1)
        .execution_options(synchronize_session=False)
    )
    for task_id in open_tasks:
        record(session, "task.withdrawn", actor, now, account_id, task_id=task_id, reason=reason)
    return len(open_tasks)


def _already(task: HumanTask) -> str:
    return f"task {task.id} was already {task.status} by {task.decided_by}; nothing changed"


def _still_escalable(session: Session, task: HumanTask, now: datetime) -> None:
    """Defence in depth behind withdrawal: never escalate an account that has moved on since the task."""
    account = session.get(Account, task.account_id)
    assert account is not None
    if account.stage not in stages.ESCALABLE:
        raise DecisionError(f"account {account.id} is now in stage '{account.stage}'; escalation no longer applies")
    if session.scalar(sa.select(active_hold(now.date())).where(col(Account.id) == account.id)):
        raise DecisionError(f"account {account.id} is on hold; escalation no longer applies")
    barred_on = task.payload.get("time_barred_on")
    if barred_on is not None and now.date() >= date.fromisoformat(barred_on):
        raise DecisionError(
            f"account {account.id} became time-barred on {barred_on} ({task.payload.get('time_bar_rule')}): "
            "it is never escalated to legal action"
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
