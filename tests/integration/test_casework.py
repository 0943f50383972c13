"""Casework on SQLite and PostgreSQL: what a decision on a dispute, hardship or complaint sets in motion, the
complaints and call-backs the product opens by itself (once per account), and the SLA paused while a task
waits for information."""

from __future__ import annotations

import importlib
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from overdue.cli import app
from overdue.config.models import TaskKindName
from overdue.domain import tasks as rules
from overdue.domain.offers import Request
from overdue.runtime import Runtime
from overdue.services.agent_calls import CallReport, log_call
from overdue.services.audit import SYSTEM
from overdue.services.decisions import HOOKS_OF, DecisionError, KindHooks, decide_task
from overdue.services.disputes import verify_dispute
from overdue.services.inbound import Inbound, receive
from overdue.services.offers import make_offer
from overdue.services.plans import make_promise, monitor_plans
from overdue.services.task_queue import TaskFilter, count_tasks
from overdue.services.tasks import TaskError, comment, info_received, open_task, sweep_sla
from overdue.store.db import session_scope
from overdue.store.tables import Account, AuditEvent, Hold, HumanTask, Offer, OutreachMessage
from tests.support import SHARD, add_account, add_message, make_runtime

SPOKE = datetime(2026, 2, 16, 20, tzinfo=UTC)  # 15:00 in New York
DECIDED = SPOKE + timedelta(hours=3)
SUPERVISOR = frozenset({"supervisor"})
AGENT = frozenset({"agent"})
TASK_KINDS = TaskKindName.__args__  # type: ignore[attr-defined]


def reviewed(session: Session, runtime: Runtime, outcome: str, ref: str, **account: object) -> HumanTask:
    """A call on which the customer disputed the debt or reported hardship: its review task, opened by agent "a"."""
    opened = add_account(session, ref, due_date=date(2026, 1, 10), **account)  # type: ignore[arg-type]
    opened.stage = "negotiation"
    session.add(opened)
    assert opened.id is not None
    logged = log_call(session, runtime, CallReport(opened.id, SPOKE, outcome, f"{outcome} on the phone"), "a", SPOKE)
    assert logged.review is not None
    return logged.review


def decide(session: Session, task: HumanTask, decision: str, reason: str) -> HumanTask:
    return decide_task(session, task.id, task.version, decision, reason, "sup.sam", DECIDED, SUPERVISOR)  # type: ignore[arg-type]


def audited(session: Session, kind: str) -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).where(col(AuditEvent.kind) == kind).order_by(col(AuditEvent.id))))


def hold_of(session: Session, account_id: int, kind: str) -> Hold:
    return session.exec(select(Hold).where(col(Hold.account_id) == account_id, col(Hold.kind) == kind)).one()


def test_a_verified_dispute_sends_the_verification_and_resumes_collection(session: Session, runtime: Runtime) -> None:
    task = reviewed(session, runtime, "dispute", "verified")
    account = session.get(Account, task.account_id)
    assert account is not None
    account.next_action_on = None
    session.add(account)

    decide(session, task, "approve", "Signed agreement and statements match the balance")

    hold = hold_of(session, task.account_id, "dispute")
    assert hold.ends_on == DECIDED.date() - timedelta(days=1)  # contact may resume today
    letter = session.exec(select(OutreachMessage).where(col(OutreachMessage.purpose) == "verification")).one()
    assert (letter.channel, letter.status, letter.template, letter.address) == (
        "letter",
        "queued",
        "dispute_verification",
        "1 Main St",
    )
    assert account.next_action_on == DECIDED.date()
    [resolved] = audited(session, "dispute.resolved")
    assert (resolved.data["resolution"], resolved.data["hold_id"]) == ("verified", hold.id)


def test_a_dispute_without_a_postal_address_is_not_verified_and_nothing_is_recorded(runtime: Runtime) -> None:
    with session_scope(runtime.database_url) as session:
        task_id = reviewed(session, runtime, "dispute", "no-post", channels=("sms",)).id
    with (
        pytest.raises(DecisionError, match="no postal address"),
        session_scope(runtime.database_url) as session,
    ):
        decide(session, session.get(HumanTask, task_id), "approve", "Balance checked")  # type: ignore[arg-type]
    with session_scope(runtime.database_url) as session:
        task = session.get(HumanTask, task_id)
        assert task is not None
        assert (task.status, task.version) == ("open", 0)
        assert hold_of(session, task.account_id, "dispute").ends_on is None
        assert audited(session, "task.decided") == []


def test_an_upheld_dispute_stops_collection_for_good(session: Session, runtime: Runtime) -> None:
    task = reviewed(session, runtime, "dispute", "upheld")
    account = session.get(Account, task.account_id)
    assert account is not None
    offer = make_offer(session, runtime.config, task.account_id, Request(), "agent.ann", SPOKE)
    queued = add_message(session, account, DECIDED + timedelta(days=1))

    decide(session, task, "reject", "The creditor could not produce the agreement")

    hold = hold_of(session, task.account_id, "dispute")
    assert hold.ends_on is None  # in force with no end: the debt is not collected
    assert account.next_action_on is None
    session.refresh(queued)
    session.refresh(offer)
    assert (queued.status, offer.status) == ("cancelled", "withdrawn")
    [resolved] = audited(session, "dispute.resolved")
    assert (resolved.data["resolution"], resolved.data["task_id"]) == ("upheld", task.id)
    assert resolved.data["reason"] == "The creditor could not produce the agreement"


def test_approved_hardship_keeps_the_hold_for_the_period_and_offers_an_affordable_plan(
    session: Session, runtime: Runtime
) -> None:
    task = reviewed(session, runtime, "hardship", "forbear")
    hold = hold_of(session, task.account_id, "hardship")
    assert hold.ends_on is None  # collection paused from the call until the review

    decide(session, task, "approve", "Termination letter and bank statements seen")

    days = runtime.config.tasks.hardship_forbearance_days
    assert hold.ends_on == DECIDED.date() + timedelta(days=days - 1)
    offer = session.exec(select(Offer).where(col(Offer.account_id) == task.account_id)).one()
    assert (offer.kind, offer.status) == ("interest_suspended", "open")  # inside the bounds: hardship is flagged
    [forbearance] = audited(session, "hardship.forbearance")
    assert forbearance.data["until"] == (DECIDED.date() + timedelta(days=days - 1)).isoformat()
    assert [e.data["offer_id"] for e in audited(session, "hardship.offer")] == [offer.id]


def test_rejected_hardship_lifts_the_hold_and_collection_resumes(session: Session, runtime: Runtime) -> None:
    task = reviewed(session, runtime, "hardship", "declined")

    decide(session, task, "reject", "Income covers the minimum payment")

    hold = hold_of(session, task.account_id, "hardship")
    assert hold.ends_on == DECIDED.date() - timedelta(days=1)
    account = session.get(Account, task.account_id)
    assert account is not None
    assert account.next_action_on == DECIDED.date()
    assert session.exec(select(Offer)).all() == []
    assert [e.data["task_id"] for e in audited(session, "hardship.declined")] == [task.id]


def test_asking_the_customer_for_more_changes_neither_hold(session: Session, runtime: Runtime) -> None:
    dispute = reviewed(session, runtime, "dispute", "ask-d")
    hardship = reviewed(session, runtime, "hardship", "ask-h")

    decide(session, dispute, "request_info", "Which charges are disputed?")
    decide(session, hardship, "request_info", "Send the last three bank statements")

    assert hold_of(session, dispute.account_id, "dispute").ends_on is None
    assert hold_of(session, hardship.account_id, "hardship").ends_on is None
    assert session.exec(select(OutreachMessage)).all() == []


def reply(session: Session, runtime: Runtime, account: Account, body: str, n: int, at: datetime) -> None:
    address = f"{account.external_ref[2:]}@example.com"
    receive(session, runtime, Inbound("email", "sendgrid", f"in-{n}", address, body, "Re: your account"), at)


def pending(session: Session, account_id: int, kind: str) -> list[HumanTask]:
    query = select(HumanTask).where(
        col(HumanTask.account_id) == account_id,
        col(HumanTask.kind) == kind,
        col(HumanTask.status).in_(rules.PENDING),
    )
    return list(session.exec(query))


def test_a_complaint_in_a_reply_holds_collection_and_opens_one_complaint(session: Session, runtime: Runtime) -> None:
    account = add_account(session, "angry", due_date=date(2026, 1, 10))
    assert account.id is not None

    reply(session, runtime, account, "I want to complain: your collector was rude to my mother", 1, SPOKE)
    reply(session, runtime, account, "This is harassment and I will complain to the CFPB", 2, SPOKE)

    [task] = pending(session, account.id, "complaint")
    assert (task.role_needed, task.requested_by, task.payload["intent"]) == (
        "supervisor",
        "customer:email",
        "complaint",
    )
    assert "rude to my mother" in str(task.payload["excerpt"])
    hold = hold_of(session, account.id, "complaint")  # one hold, however many replies
    assert (hold.ends_on, hold.reason) == (None, "Complaint in the customer's email reply (inbound 1)")
    assert pending(session, account.id, "inbound_message") == []

    decide(session, task, "reject", "Call recordings reviewed: the agent followed the script")

    assert hold.ends_on == DECIDED.date() - timedelta(days=1)
    [resolved] = audited(session, "complaint.resolved")
    assert (resolved.data["upheld"], resolved.data["task_id"]) == (False, task.id)


def test_a_complaint_logged_on_a_call_holds_collection_for_a_supervisor(session: Session, runtime: Runtime) -> None:
    account = add_account(session, "call-cmp", due_date=date(2026, 1, 10))
    assert account.id is not None

    log_call(session, runtime, CallReport(account.id, SPOKE, "complaint", "Called at work twice"), "agent.ann", SPOKE)

    [task] = pending(session, account.id, "complaint")
    assert (task.requested_by, task.payload["note"]) == ("agent.ann", "Called at work twice")
    assert hold_of(session, account.id, "complaint").reason == "Called at work twice"


def test_a_dispute_in_a_reply_opens_one_review_of_its_hold(session: Session, runtime: Runtime) -> None:
    account = add_account(session, "notmine", due_date=date(2026, 1, 10))
    assert account.id is not None

    reply(session, runtime, account, "This is not my debt", 1, SPOKE)
    reply(session, runtime, account, "I told you, I never opened this account", 2, SPOKE + timedelta(hours=1))

    [task] = pending(session, account.id, "dispute_review")
    hold = hold_of(session, account.id, "dispute")
    assert (task.role_needed, task.payload["hold_id"], task.payload["intent"]) == ("supervisor", hold.id, "dispute")


def test_a_dispute_verified_by_hand_withdraws_its_pending_review(session: Session, runtime: Runtime) -> None:
    task = reviewed(session, runtime, "dispute", "by-hand")
    hold = hold_of(session, task.account_id, "dispute")
    assert hold.id is not None

    verify_dispute(session, runtime.renderer, runtime.sender, hold.id, "Agreement sent", "sup.sam", DECIDED)

    session.refresh(task)
    assert (task.status, task.reason) == ("withdrawn", "dispute verified")


def test_every_kind_with_hooks_names_a_module_that_has_them() -> None:
    for kind, module in HOOKS_OF.items():
        assert kind in TASK_KINDS
        assert isinstance(importlib.import_module(module).HOOKS, KindHooks)


def test_a_reply_asking_for_a_call_opens_one_agent_call(session: Session, runtime: Runtime) -> None:
    account = add_account(session, "callme", due_date=date(2026, 1, 10))
    assert account.id is not None

    reply(session, runtime, account, "Can you call me back after 5pm?", 1, SPOKE)
    reply(session, runtime, account, "Please call me", 2, SPOKE + timedelta(hours=1))

    [task] = pending(session, account.id, "agent_call")
    assert (task.role_needed, task.payload["intent"]) == ("agent", "callback")
    assert session.exec(select(Hold)).all() == []  # a call-back stops nothing


def test_a_broken_promise_opens_one_agent_call_however_often_the_plans_are_judged(
    session: Session, runtime: Runtime
) -> None:
    account = add_account(session, "broken", due_date=date(2026, 1, 10))
    assert account.id is not None
    promise = make_promise(session, runtime.config, account.id, 20_000, date(2026, 2, 20), "agent", "agent.li", SPOKE)
    late = date(2026, 3, 10)  # past the promise and its grace days

    monitor_plans(session, runtime.config, late, SPOKE, SHARD)
    monitor_plans(session, runtime.config, late + timedelta(days=1), SPOKE, SHARD)

    [task] = pending(session, account.id, "agent_call")
    assert (task.requested_by, task.payload) == (SYSTEM, {"reason": "broken promise to pay", "plan_id": promise.id})


def test_a_logged_call_back_request_and_a_reply_share_one_agent_call(session: Session, runtime: Runtime) -> None:
    account = add_account(session, "both", due_date=date(2026, 1, 10))
    assert account.id is not None
    log_call(session, runtime, CallReport(account.id, SPOKE, "callback_requested", "after work"), "agent.ann", SPOKE)

    reply(session, runtime, account, "call me please", 1, SPOKE + timedelta(hours=1))

    assert len(pending(session, account.id, "agent_call")) == 1


def waiting_task(session: Session, runtime: Runtime, ref: str) -> HumanTask:
    """A hardship review opened at SPOKE (48 h SLA) and, an hour later, waiting for information."""
    account = add_account(session, ref, due_date=date(2026, 1, 10))
    task = open_task(session, runtime.config.tasks, "hardship_review", account.id, {}, "agent.ann", SPOKE)  # type: ignore[arg-type]
    asked = SPOKE + timedelta(hours=1)
    decide_task(session, task.id, 0, "request_info", "Send bank statements", "sup.sam", asked, SUPERVISOR)  # type: ignore[arg-type]
    return task


def test_a_task_waiting_for_information_does_not_breach_and_its_due_time_moves_on(
    session: Session, runtime: Runtime
) -> None:
    task = waiting_task(session, runtime, "paused")
    due = task.due_at
    assert due == SPOKE + timedelta(hours=48)
    long_after = due + timedelta(days=2)

    assert sweep_sla(session, runtime.config.tasks, long_after).escalated == 0
    assert count_tasks(session, TaskFilter(scope="all"), long_after).breached == 0
    assert count_tasks(session, TaskFilter(scope="all", breached=True), long_after).total == 0

    comment(session, task.id, "Statements posted to the branch", "agent.ann", long_after)  # type: ignore[arg-type]

    waited = long_after - (SPOKE + timedelta(hours=1))
    assert (task.status, task.due_at, task.decided_by) == ("open", due + waited, None)
    assert sweep_sla(session, runtime.config.tasks, due + waited - timedelta(seconds=1)).escalated == 0
    assert sweep_sla(session, runtime.config.tasks, due + waited).escalated == 1
    [reopened] = audited(session, "task.reopened")
    assert reopened.data["waited_seconds"] == int(waited.total_seconds())


def test_info_received_reopens_the_task_once_for_someone_who_works_it(runtime: Runtime) -> None:
    with session_scope(runtime.database_url) as session:
        task_id: int = waiting_task(session, runtime, "received").id  # type: ignore[assignment]
    later = SPOKE + timedelta(hours=25)
    with session_scope(runtime.database_url) as session:
        with pytest.raises(TaskError, match="needs the role 'supervisor'"):
            info_received(session, task_id, "agent.ann", AGENT, later)
        task = info_received(session, task_id, "sup.sam", SUPERVISOR, later, "statements arrived by post")
        assert (task.status, task.due_at) == ("open", SPOKE + timedelta(hours=48 + 24))
        with pytest.raises(TaskError, match="not waiting for information"):
            info_received(session, task_id, "sup.sam", SUPERVISOR, later)


def test_the_cli_says_the_information_arrived(sqlite_url: str) -> None:
    runtime = make_runtime(sqlite_url)
    with session_scope(sqlite_url) as session:
        task_id = waiting_task(session, runtime, "cli").id
    args = ["tasks", "info-received", str(task_id), "--as", "sup.sam", "--role", "supervisor"]
    args += ["--note", "documents came by post", "--database-url", sqlite_url]

    result = CliRunner().invoke(app, args, env={"COLUMNS": "1000"})

    assert result.exit_code == 0, result.output
    assert f"Task {task_id} is open again" in result.output
    listed = CliRunner().invoke(app, ["tasks", "list", "--database-url", sqlite_url], env={"COLUMNS": "1000"})
    assert "paused" not in listed.output
    with session_scope(sqlite_url) as session:
        assert session.scalar(sa.select(col(HumanTask.status)).where(col(HumanTask.id) == task_id)) == "open"
