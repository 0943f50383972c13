"""Complaints about the debt or how the customer was contacted: opened by a person, from a customer's reply read as
a complaint (overdue/services/inbound.py) or a call logged with that outcome (overdue/services/agent_calls.py).

Every policy lists `complaint` among the holds that stop collection, so an automatic complaint places the complaint
hold and opens one `complaint` task for a supervisor (never a second while one is pending). Deciding it resolves
the complaint, upheld (approve) or not (reject), with the reason: the complaint hold ends and collection resumes
today; what an upheld complaint calls for besides (a refund, a dispute, a change of contact) the supervisor does."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from overdue.config.models import Tasks
from overdue.domain import tasks as rules
from overdue.services.audit import record
from overdue.services.auto_tasks import open_once
from overdue.services.decisions import KindHooks
from overdue.services.holds import hold_in_force, place_hold, release_hold
from overdue.store.tables import Account, HumanTask

COMPLAINT = "complaint"


def open_complaint(
    session: Session, tasks: Tasks, account_id: int, reason: str, payload: dict[str, Any], actor: str, now: datetime
) -> bool:
    """Collection stops under the complaint hold (`reason` says where the complaint came from) and a supervisor
    gets the complaint; False when one is pending already (the hold is then in place too, or a person lifted it
    on purpose)."""
    kind = tasks.kind(COMPLAINT)
    if not open_once(session, COMPLAINT, kind.role, kind.sla_hours, {account_id: payload}, actor, now):
        return False
    if hold_in_force(session, account_id, COMPLAINT, now.date()) is None:
        place_hold(session, account_id, COMPLAINT, reason, actor, now.date(), now)
    return True


def _after(session: Session, task: HumanTask, user: str, now: datetime) -> None:
    if task.status not in (rules.APPROVED, rules.REJECTED):
        return
    today = now.date()
    hold = hold_in_force(session, task.account_id, COMPLAINT, today)
    if hold is not None:
        release_hold(session, hold.id, f"complaint resolved (task {task.id}): {task.reason}", user, today, now)  # type: ignore[arg-type]
    account = session.get(Account, task.account_id)
    assert account is not None
    account.next_action_on = today
    session.add(account)
    upheld = task.status == rules.APPROVED
    record(
        session, "complaint.resolved", user, now, task.account_id, task_id=task.id, upheld=upheld, reason=task.reason
    )


HOOKS = KindHooks(after=_after)
