"""The human task queue: open a task, claim it, assign or reassign it, release it, comment, attach evidence,
and the SLA sweep. Decisions are in overdue/services/decisions.py.

Every change of who holds a task is a conditional write on (id, pending status, version), like a decision:
two supervisors assigning the same task at once end with one assignment and a message to the other. Comments
and attachments do not change the task's version, so they never invalidate a decision form someone has open,
except an answer to a request for information, which puts the task back in the queue (as does `info_received`).
The SLA stands still while a task waits for information: it is never breached then, and its due time moves on
by the time it waited when it returns to the queue.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from overdue.config.models import Tasks
from overdue.domain import tasks as rules
from overdue.services.audit import audit_row, record, record_many
from overdue.services.refusal_texts import refusal
from overdue.store.bulk import chunked
from overdue.store.sealed import Vault
from overdue.store.tables import Account, Evidence, HumanTask, TaskActivity

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
SWEEPER = "system:sla-sweep"


class TaskError(rules.Refused):
    """The step was not recorded; the message (and its refusal code) says why."""


def view(task: HumanTask) -> rules.TaskView:
    return rules.TaskView(
        task.id,  # type: ignore[arg-type]
        task.status,
        task.role_needed,
        task.requested_by,
        task.assignee,
        task.escalated_to,
    )


def load(session: Session, task_id: int) -> HumanTask:
    task = session.get(HumanTask, task_id)
    if task is None:
        raise TaskError(refusal("no_task", task=task_id))
    return task


def open_task(
    session: Session,
    tasks: Tasks,
    kind: str,
    account_id: int,
    payload: dict[str, Any],
    requested_by: str,
    now: datetime,
) -> HumanTask:
    """A new task for the kind's role, due after the kind's SLA (configs/tasks.yaml)."""
    try:
        configured = tasks.kind(kind)
    except ValueError as exc:
        raise TaskError(str(exc)) from None
    if session.get(Account, account_id) is None:
        raise TaskError(refusal("no_account", account=account_id))
    task = HumanTask(
        kind=kind,
        account_id=account_id,
        payload=payload,
        role_needed=configured.role,
        requested_by=requested_by,
        due_at=now + timedelta(hours=configured.sla_hours),
        created_at=now,
    )
    session.add(task)
    session.flush()
    record(session, "task.created", requested_by, now, account_id, task_id=task.id, task_kind=kind)
    return task


def claim(session: Session, task_id: int, user: str, roles: Collection[str], now: datetime) -> HumanTask:
    task = load(session, task_id)
    _refused(rules.refuse_claim(view(task), user, roles, task.decided_by))
    return _hand_to(session, task, user, user, "claim", now)


def assign(
    session: Session, task_id: int, assignee: str, user: str, roles: Collection[str], now: datetime
) -> HumanTask:
    """A supervisor gives the task to someone (reassigns it if someone holds it)."""
    assignee = assignee.strip()
    if not assignee:
        raise TaskError(refusal("assignee_missing"))
    task = load(session, task_id)
    _refused(rules.refuse_assign(view(task), roles, task.decided_by))
    return _hand_to(session, task, assignee, user, "reassign" if task.assignee else "assign", now)


def release(session: Session, task_id: int, user: str, roles: Collection[str], now: datetime) -> HumanTask:
    """Back to the team queue."""
    task = load(session, task_id)
    _refused(rules.refuse_release(view(task), user, roles, task.decided_by))
    return _hand_to(session, task, None, user, "release", now)


def _hand_to(session: Session, task: HumanTask, assignee: str | None, user: str, what: str, now: datetime) -> HumanTask:
    previous = task.assignee
    _conditional_update(session, task, assignee=assignee)
    text = f"{previous} -> {assignee}" if what == "reassign" else (assignee or previous or "")
    _activity(session, task, what, user, now, text)
    record(session, f"task.{what}", user, now, task.account_id, task_id=task.id, assignee=assignee, previous=previous)
    return task


def _conditional_update(session: Session, task: HumanTask, **values: Any) -> None:
    """Write only if nobody changed the task since it was read; the loser gets a message, not a silent win."""
    result = session.execute(
        sa.update(HumanTask)
        .where(
            col(HumanTask.id) == task.id,
            col(HumanTask.status).in_(rules.PENDING),
            col(HumanTask.version) == task.version,
        )
        .values(**values, version=col(HumanTask.version) + 1)
        .execution_options(synchronize_session=False)
    )
    session.refresh(task)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        if task.status not in rules.PENDING:
            raise TaskError(rules.refusal("already", task=task.id, status=task.status, by=task.decided_by))
        raise TaskError(rules.refusal("changed", task=task.id))


def comment(session: Session, task_id: int, text: str, user: str, now: datetime) -> TaskActivity:
    """A note on the task. From anyone but the person who asked, it answers a request for information and
    puts the task back in the queue of the people who decide it."""
    text = text.strip()
    if not text:
        raise TaskError(refusal("comment_empty"))
    task = load(session, task_id)
    activity = _activity(session, task, "comment", user, now, text)
    _answer_info_request(session, task, user, now)
    return activity


def attach(
    session: Session,
    vault: Vault,
    task_id: int,
    filename: str,
    content_type: str,
    content: bytes,
    user: str,
    now: datetime,
    note: str = "",
) -> Evidence:
    """Evidence on a task (a bank statement behind a hardship report, a receipt), sealed like the evidence
    customers email us: the file is personal data and is kept encrypted with OVERDUE_DATA_KEYS."""
    if not content:
        raise TaskError(refusal("file_empty"))
    if len(content) > MAX_ATTACHMENT_BYTES:
        raise TaskError(refusal("file_too_large", megabytes=MAX_ATTACHMENT_BYTES // (1024 * 1024)))
    task = load(session, task_id)
    evidence = Evidence(
        task_id=task.id,
        uploaded_by=user,
        account_id=task.account_id,
        filename=filename.strip()[:255] or "attachment",
        content_type=content_type[:100] or "application/octet-stream",
        size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content_sealed=vault.seal_bytes(content),
        received_at=now,
    )
    session.add(evidence)
    session.flush()
    _activity(session, task, "attachment", user, now, note.strip() or evidence.filename, evidence.id)
    record(
        session,
        "evidence.attached",
        user,
        now,
        task.account_id,
        task_id=task.id,
        evidence_id=evidence.id,
        sha256=evidence.sha256,
        size_bytes=evidence.size_bytes,
    )
    _answer_info_request(session, task, user, now)
    return evidence


def info_received(
    session: Session, task_id: int, user: str, roles: Collection[str], now: datetime, note: str = ""
) -> HumanTask:
    """The information asked for arrived some other way (a letter, a call, an email to the decider): the task
    goes back to the queue with its SLA moved on by the time it waited."""
    task = load(session, task_id)
    _refused(rules.refuse_info_received(view(task), roles, task.decided_by))
    if not _reopen(session, task, user, now, note.strip()):
        if task.status not in rules.PENDING:
            raise TaskError(rules.refusal("already", task=task.id, status=task.status, by=task.decided_by))
        raise TaskError(rules.refusal("changed", task=task.id))
    return task


def _answer_info_request(session: Session, task: HumanTask, user: str, now: datetime) -> None:
    if task.status == rules.INFO_REQUESTED and task.decided_by != user:
        _reopen(session, task, user, now, "")


def _reopen(session: Session, task: HumanTask, user: str, now: datetime, text: str) -> bool:
    """Back to open, a conditional write on (id, info_requested, version) like every change of a task; the SLA
    did not run while the task waited (it waited since the request, `decided_at`), so the due time moves by that."""
    waited = now - task.decided_at if task.decided_at is not None else timedelta(0)
    due_at = task.due_at + waited if task.due_at is not None else None
    result = session.execute(
        sa.update(HumanTask)
        .where(
            col(HumanTask.id) == task.id,
            col(HumanTask.status) == rules.INFO_REQUESTED,
            col(HumanTask.version) == task.version,
        )
        .values(
            status=rules.OPEN,
            decided_by=None,
            decided_at=None,
            reason=None,
            due_at=due_at,
            version=col(HumanTask.version) + 1,
        )
        .execution_options(synchronize_session=False)
    )
    session.refresh(task)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    _activity(session, task, "info_provided", user, now, text)
    record(
        session,
        "task.reopened",
        user,
        now,
        task.account_id,
        task_id=task.id,
        waited_seconds=int(waited.total_seconds()),
        due_at=due_at.isoformat() if due_at else None,
    )
    return True


def open_evidence(session: Session, vault: Vault, evidence_id: int, user: str, now: datetime) -> tuple[Evidence, bytes]:
    """A sealed file opened for a person; every opening is audited before the bytes leave here."""
    evidence = session.get(Evidence, evidence_id)
    if evidence is None:
        raise TaskError(refusal("no_evidence", evidence=evidence_id))
    content = vault.open_bytes(evidence.content_sealed)
    record(session, "evidence.opened", user, now, evidence.account_id, evidence_id=evidence_id)
    return evidence, content


def _activity(
    session: Session, task: HumanTask, kind: str, user: str, now: datetime, text: str, evidence_id: int | None = None
) -> TaskActivity:
    activity = TaskActivity(task_id=task.id, kind=kind, actor=user, at=now, text=text, evidence_id=evidence_id)  # type: ignore[arg-type]
    session.add(activity)
    session.flush()
    return activity


def activities(session: Session, task_id: int) -> list[TaskActivity]:
    return list(
        session.scalars(
            sa.select(TaskActivity)
            .where(col(TaskActivity.task_id) == task_id)
            .order_by(col(TaskActivity.at), col(TaskActivity.id))
        )
    )


def approvers(session: Session, task_id: int) -> list[str]:
    """Who has approved a task needing more than one approval so far."""
    return list(
        session.scalars(
            sa.select(col(TaskActivity.actor))
            .where(col(TaskActivity.task_id) == task_id, col(TaskActivity.kind) == "approval")
            .order_by(col(TaskActivity.id))
        )
    )


@dataclass(frozen=True, slots=True)
class SweepResult:
    escalated: int

    def as_dict(self) -> dict[str, int]:
        return {"escalated": self.escalated}


def sweep_sla(session: Session, tasks: Tasks, now: datetime) -> SweepResult:
    """Escalate every open task past its SLA to `escalate_to` (configs/tasks.yaml), once: the mark shows on
    the task, puts it in that role's queue, and is audited. One set-based update, so a backlog of thousands
    costs one statement; a task escalated already is never escalated again, and one waiting for information is
    not late (its SLA is paused)."""
    breached = sa.and_(
        col(HumanTask.status) == rules.OPEN,
        col(HumanTask.due_at) <= now,
        col(HumanTask.escalated_at).is_(None),
    )
    rows = session.execute(sa.select(col(HumanTask.id), col(HumanTask.account_id)).where(breached)).all()
    for chunk in chunked(rows, 1000):
        session.execute(
            sa.update(HumanTask)
            .where(col(HumanTask.id).in_([task_id for task_id, _ in chunk]))
            .values(escalated_at=now, escalated_to=tasks.escalate_to)
            .execution_options(synchronize_session=False)
        )
        session.execute(
            sa.insert(TaskActivity),
            [
                {"task_id": task_id, "kind": "escalated", "actor": SWEEPER, "at": now, "text": tasks.escalate_to}
                for task_id, _ in chunk
            ],
        )
        record_many(
            session,
            (
                audit_row("task.escalated", SWEEPER, now, account_id, task_id=task_id, to=tasks.escalate_to)
                for task_id, account_id in chunk
            ),
        )
    return SweepResult(len(rows))


def _refused(refusal: rules.Refusal | None) -> None:
    if refusal is not None:
        raise TaskError(refusal)
