"""Deciding a legal escalation: approved, the account leaves collection outreach for counsel (the legal case
opens in the decision's transaction; overdue/services/continuation.py starts its demand letter right after the
commit); rejected, negotiation goes on. An approval is refused when the account has moved on since the task."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Session, col

from overdue.domain import stages
from overdue.domain import tasks as rules
from overdue.services.audit import record, record_many, stage_changed
from overdue.services.decisions import DecisionError, KindHooks, already
from overdue.services.outreach import active_hold, cancel_queued
from overdue.services.tasks import approvers
from overdue.store.tables import Account, HumanTask, LegalCase, Offer


def _before(
    session: Session, task: HumanTask, status: str, expected_version: int, reason: str, user: str, now: datetime
) -> bool:
    if status != rules.APPROVED:
        return False
    try:
        _still_escalable(session, task, now)
    except DecisionError:
        session.refresh(task)  # a colleague's approval may be what moved the account: say that instead
        if task.status not in rules.PENDING:
            raise DecisionError(already(task)) from None
        raise
    return False


def _after(session: Session, task: HumanTask, user: str, now: datetime) -> None:
    if task.status == rules.APPROVED:
        open_legal_case(session, task, ", ".join(approvers(session, task.id))[:64], now)  # type: ignore[arg-type]
    elif task.status == rules.REJECTED:
        _back_to_negotiation(session, task, user, now)


def _back_to_negotiation(session: Session, task: HumanTask, user: str, now: datetime) -> None:
    """A rejected escalation: negotiation goes on from today, with the reason on the account's record (the
    escalation cool-off keeps the same proposal from coming straight back)."""
    account = session.get(Account, task.account_id)
    assert account is not None
    account.next_action_on = now.date()
    session.add(account)
    record(session, "escalation.rejected", user, now, account.id, task_id=task.id, reason=task.reason)


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


HOOKS = KindHooks(before=_before, after=_after)
