"""`overdue tasks ...`: the human task queue from the command line, the same rules as the dashboard's inbox.

Every command acts `--as USER`. A dashboard user (`overdue users add`) acts with the roles the users table gives
them (`--role` may narrow them, never widen them); a disabled one cannot act. Anyone else (a script, a person
without a dashboard account) acts with the roles named by `--role`: the command line is for people who already
hold the database URL, and every step is recorded in the audit trail under the name given.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer
from rich.table import Table
from sqlmodel import Session, col

from overdue.cli.common import DatabaseOption, console, fail, refusing, runtime, unit_of_work, utcnow
from overdue.domain import tasks as rules
from overdue.domain.money import format_money
from overdue.store.db import session_scope

tasks_app = typer.Typer(
    help="Human tasks: list, claim, assign, release, comment, attach evidence, decide, info received.",
    no_args_is_help=True,
)
User = Annotated[str, typer.Option("--as", help="Who acts; recorded in the audit trail.")]
Roles = Annotated[
    list[str] | None,
    typer.Option("--role", help="A role USER holds (repeatable): agent, supervisor, legal, manager, engineer, admin."),
]


def _roles(roles: list[str] | None) -> frozenset[str]:
    return frozenset(roles or ())


def acting_roles(session: Session, user: str, stated: list[str] | None) -> frozenset[str]:
    """The roles USER acts with: a dashboard user's own (narrowed by --role), else the ones stated."""
    from overdue.store.tables import DashboardUser

    person = session.scalars(sa.select(DashboardUser).where(col(DashboardUser.name) == user.strip())).first()
    if person is None:
        return _roles(stated)
    if person.disabled_at is not None:
        raise fail(f"User {user} is disabled.")
    held = frozenset(person.roles)
    if not _roles(stated) <= held:
        raise fail(f"{user} does not hold the role(s) {', '.join(sorted(_roles(stated) - held))}.")
    return _roles(stated) or held


@tasks_app.command("list")
def tasks_list(
    user: Annotated[str, typer.Option("--as", help="Whose tasks (for --mine).")] = "",
    roles: Roles = None,
    mine: Annotated[bool, typer.Option("--mine", help="Only the tasks assigned to USER.")] = False,
    kind: Annotated[list[str] | None, typer.Option(help="Only this kind (repeatable).")] = None,
    status: Annotated[list[str] | None, typer.Option(help="open, info_requested, approved, ... (repeatable).")] = None,
    breached: Annotated[bool | None, typer.Option("--breached/--within-sla", help="Past SLA, or not yet.")] = None,
    limit: int = 50,
    page: int = 1,
    database_url: DatabaseOption = None,
) -> None:
    """Pending tasks, most urgent first: USER's own (--mine), their roles' queue (--role), or all."""
    from overdue.services.task_queue import Scope, TaskFilter, count_tasks, list_tasks

    now = utcnow()
    scope: Scope = "mine" if mine else ("team" if roles else "all")
    selected = TaskFilter(
        scope=scope,
        user=user,
        roles=_roles(roles),
        kinds=tuple(kind or ()),
        statuses=tuple(status or rules.PENDING),
        breached=breached,
    )
    table = Table("id", "kind", "account", "balance", "role", "assignee", "status", "due (UTC)", "SLA", "version")
    with session_scope(runtime(database_url).database_url) as session:
        counts = count_tasks(session, selected, now)
        for t in list_tasks(session, selected, now, limit=limit, offset=(page - 1) * limit):
            sla = "breached" if rules.sla_breached(t.status, t.due_at, now) else ""
            if rules.sla_paused(t.status):
                sla = "paused"
            if t.escalated_at:
                sla += " (escalated)"
            state = t.status + (f" {t.approvals}/{t.approvals_needed}" if t.approvals_needed > 1 else "")
            table.add_row(
                str(t.id),
                t.kind,
                t.account_ref,
                format_money(t.balance_minor, t.currency, "en-US"),
                t.role_needed,
                t.assignee or "",
                state,
                t.due_at.strftime("%Y-%m-%d %H:%M") if t.due_at else "",
                sla.strip(),
                str(t.version),
            )
    console.print(table)
    console.print(f"{counts.total} task(s), {counts.breached} past SLA.")


@tasks_app.command("show")
def tasks_show(task_id: int, database_url: DatabaseOption = None) -> None:
    """One task: the account, the payload, and its history (claims, comments, attachments, approvals)."""
    from overdue.services.task_queue import get_task_row
    from overdue.services.tasks import activities

    with session_scope(runtime(database_url).database_url) as session:
        row = get_task_row(session, task_id)
        if row is None:
            raise fail(f"No task {task_id}.")
        console.print(
            f"Task {row.id} · {row.kind} · {row.status} · version {row.version} · role {row.role_needed} · "
            f"assignee {row.assignee or '-'} · requested by {row.requested_by}"
        )
        console.print(
            f"Account {row.account_ref} · {row.customer_name} · {row.jurisdiction} · stage {row.stage} · "
            f"{row.dpd} DPD · {format_money(row.balance_minor, row.currency, 'en-US')}"
        )
        console.print(f"Payload: {row.payload}")
        history = Table("at (UTC)", "what", "who", "text")
        for a in activities(session, task_id):
            assert a.at is not None
            history.add_row(a.at.strftime("%Y-%m-%d %H:%M"), a.kind, a.actor, a.text)
    console.print(history)


@tasks_app.command("open")
def tasks_open(
    kind: Annotated[str, typer.Argument(help="complaint, agent_call, dispute_review, hardship_review, ...")],
    account_id: int,
    note: Annotated[str, typer.Option(help="What the task is about.")],
    user: User,
    database_url: DatabaseOption = None,
) -> None:
    """Open a task by hand (a complaint taken on the phone, a call-back to make)."""
    from overdue.services.tasks import TaskError, open_task

    with refusing(TaskError), unit_of_work(database_url) as (rt, session):
        task = open_task(session, rt.config.tasks, kind, account_id, {"note": note.strip()}, user, utcnow())
        assert task.due_at is not None
        due = task.due_at
    console.print(f"Task {task.id} ({kind}) opened for the '{task.role_needed}' role, due {due:%Y-%m-%d %H:%M} UTC.")


@tasks_app.command("claim")
def tasks_claim(task_id: int, user: User, roles: Roles = None, database_url: DatabaseOption = None) -> None:
    """Take a task from the team queue."""
    from overdue.services.tasks import TaskError, claim

    with refusing(TaskError), unit_of_work(database_url) as (_, session):
        claim(session, task_id, user, acting_roles(session, user, roles), utcnow())
    console.print(f"Task {task_id} claimed by {user}.")


@tasks_app.command("assign")
def tasks_assign(
    task_id: int,
    assignee: Annotated[str, typer.Argument(help="Who gets the task (replaces whoever holds it).")],
    user: User,
    roles: Roles = None,
    database_url: DatabaseOption = None,
) -> None:
    """Assign or reassign a task (supervisor or admin)."""
    from overdue.services.tasks import TaskError, assign

    with refusing(TaskError), unit_of_work(database_url) as (_, session):
        assign(session, task_id, assignee, user, acting_roles(session, user, roles), utcnow())
    console.print(f"Task {task_id} assigned to {assignee} by {user}.")


@tasks_app.command("release")
def tasks_release(task_id: int, user: User, roles: Roles = None, database_url: DatabaseOption = None) -> None:
    """Give a claimed task back to the team queue."""
    from overdue.services.tasks import TaskError, release

    with refusing(TaskError), unit_of_work(database_url) as (_, session):
        release(session, task_id, user, acting_roles(session, user, roles), utcnow())
    console.print(f"Task {task_id} released by {user}.")


@tasks_app.command("comment")
def tasks_comment(
    task_id: int,
    text: Annotated[str, typer.Argument(help="The comment; answering a request for information reopens the task.")],
    user: User,
    database_url: DatabaseOption = None,
) -> None:
    """Comment on a task."""
    from overdue.services.tasks import TaskError, comment

    with refusing(TaskError), unit_of_work(database_url) as (_, session):
        comment(session, task_id, text, user, utcnow())
    console.print(f"Comment added to task {task_id}.")


@tasks_app.command("info-received")
def tasks_info_received(
    task_id: int,
    user: User,
    roles: Roles = None,
    note: Annotated[str, typer.Option(help="What arrived, and how.")] = "",
    database_url: DatabaseOption = None,
) -> None:
    """The information asked for arrived (by post, on a call): the task returns to the queue, its SLA moved on by
    the time it waited. A comment or an attachment from anyone but the person who asked does the same."""
    from overdue.services.tasks import TaskError, info_received

    with refusing(TaskError), unit_of_work(database_url) as (_, session):
        task = info_received(session, task_id, user, acting_roles(session, user, roles), utcnow(), note)
        due = task.due_at
    console.print(f"Task {task_id} is open again" + (f", due {due:%Y-%m-%d %H:%M} UTC." if due else "."))


@tasks_app.command("attach")
def tasks_attach(
    task_id: int,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    user: User,
    note: Annotated[str, typer.Option(help="What the document shows.")] = "",
    database_url: DatabaseOption = None,
) -> None:
    """Attach evidence to a task; it is stored sealed (OVERDUE_DATA_KEYS), with its SHA-256."""
    from overdue.services.tasks import TaskError, attach

    content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    with refusing(TaskError), unit_of_work(database_url) as (rt, session):
        evidence = attach(session, rt.vault, task_id, file.name, content_type, file.read_bytes(), user, utcnow(), note)
        digest = evidence.sha256
    console.print(f"Evidence {evidence.id} ({file.name}, sha256 {digest[:12]}...) attached to task {task_id}.")


@tasks_app.command("evidence")
def tasks_evidence(
    task_id: int,
    user: User,
    out: Annotated[
        Path | None,
        typer.Option(file_okay=False, help="Save every document here as ID-NAME (each opening is audited)."),
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """The documents in a task's case file (the customer's and those attached to tasks on the account); with
    --out, save them. Existing files are never overwritten."""
    from overdue.services.case_file import evidence_file_name, evidence_of
    from overdue.services.tasks import open_evidence
    from overdue.store.tables import HumanTask

    table = Table("id", "file", "type", "bytes", "from", "task", "received (UTC)", "sha256")
    opened: dict[str, bytes] = {}
    with unit_of_work(database_url) as (rt, session):
        task = session.get(HumanTask, task_id)
        if task is None:
            raise fail(f"No task {task_id}.")
        for e in evidence_of(session, task.account_id):
            evidence_id, received = int(e.id or 0), e.received_at or utcnow()
            source = "customer" if e.inbound_id is not None else (e.uploaded_by or "")
            row = (e.filename, e.content_type, str(e.size_bytes), source, str(e.task_id or ""))
            table.add_row(str(evidence_id), *row, f"{received:%Y-%m-%d %H:%M}", e.sha256[:16])
            name = evidence_file_name(evidence_id, e.filename)
            if out is not None and (out / name).exists():
                raise fail(f"{out / name} exists already; nothing was saved.")
            if out is not None:
                opened[name] = open_evidence(session, rt.vault, evidence_id, user, utcnow())[1]
    console.print(table, markup=False)
    if out is not None:  # written once the openings are committed to the audit trail
        out.mkdir(parents=True, exist_ok=True)
        for name, content in opened.items():
            (out / name).write_bytes(content)
        console.print(f"{len(opened)} document(s) saved in {out}; each opening is in the audit trail.", markup=False)


@tasks_app.command("decide")
def tasks_decide(
    task_id: int,
    reason: Annotated[str, typer.Option(help="Why; required and recorded in the audit trail.")],
    user: User,
    roles: Roles = None,
    approve: Annotated[bool, typer.Option("--approve", help="Approve.")] = False,
    reject: Annotated[bool, typer.Option("--reject", help="Reject.")] = False,
    request_info: Annotated[bool, typer.Option("--request-info", help="Ask for information first.")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Approve, reject or request information. Refused if someone else decided first, if USER requested the
    task, or without the kind's role; an approved legal escalation queues its demand letter at once."""
    from overdue.services.continuation import DEFERRED, decide
    from overdue.services.decisions import DecisionError
    from overdue.store.tables import HumanTask

    chosen = [name for name, on in (("approve", approve), ("reject", reject), ("request_info", request_info)) if on]
    if len(chosen) != 1:
        raise fail("Choose exactly one of --approve, --reject, --request-info.")
    url = runtime(database_url).database_url
    with session_scope(url) as session:
        task = session.get(HumanTask, task_id)
        if task is None:
            raise fail(f"No task {task_id}.")
        version, held = task.version, acting_roles(session, user, roles)
    with refusing(DecisionError):
        decided = decide(url, task_id, version, chosen[0], reason, user, held, utcnow())
    if decided.status == rules.OPEN:
        console.print(f"Task {task_id}: approval {decided.approvals} recorded by {user}; a second person must approve.")
        return
    console.print(f"Task {task_id} {decided.status} by {user}.")
    if decided.case_id is not None:
        follow = "the next daily cycle queues it" if decided.continuation == DEFERRED else decided.continuation
        console.print(f"Legal case {decided.case_id} opened; demand letter: {follow}.")


@tasks_app.command("sweep")
def tasks_sweep(database_url: DatabaseOption = None) -> None:
    """Escalate every open task past its SLA to the supervisor role now (the `sla-sweep` deployment does this
    every few minutes)."""
    from overdue.services.tasks import sweep_sla

    with unit_of_work(database_url) as (rt, session):
        result = sweep_sla(session, rt.config.tasks, utcnow())
    console.print(f"{result.escalated} task(s) escalated to {rt.config.tasks.escalate_to}.")
