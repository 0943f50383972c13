"""The human task queue on SQLite and PostgreSQL: claims and assignments, maker-checker, two approvers,
decisions racing in threads, the SLA sweep, and an approval's continuation (including one whose start fails)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from overdue.config.models import ROLES
from overdue.runtime import Runtime
from overdue.services import continuation, legal
from overdue.services.audit import SYSTEM
from overdue.services.continuation import DEFERRED, QUEUED, STARTED, decide
from overdue.services.cycle import propose_escalations
from overdue.services.decisions import DecisionError, decide_task
from overdue.services.pauses import pause_account
from overdue.services.tasks import (
    TaskError,
    activities,
    assign,
    attach,
    claim,
    comment,
    open_evidence,
    open_task,
    release,
    sweep_sla,
)
from overdue.store.db import session_scope
from overdue.store.tables import (
    Account,
    AuditEvent,
    Customer,
    Evidence,
    HumanTask,
    LegalCase,
    OutreachMessage,
    TaskActivity,
)
from tests.support import SHARD, add_account, add_escalation_task, midnight, run_day

NOW = midnight(date(2026, 4, 1))
LEGAL = frozenset({"legal"})
SUPERVISOR = frozenset({"supervisor"})


def escalation(runtime: Runtime, ref: str = "q", *, approvals_needed: int = 1) -> tuple[int, int]:
    """An open legal escalation (task id, account id), committed."""
    with session_scope(runtime.database_url) as session:
        account = add_account(session, ref, due_date=date(2026, 1, 1))
        task = add_escalation_task(session, account, created_at=NOW)
        task.payload = task.payload | {"approvals_needed": approvals_needed}
        session.add(task)
        assert task.id is not None
        assert account.id is not None
        return task.id, account.id


def reload(runtime: Runtime, task_id: int) -> HumanTask:
    with session_scope(runtime.database_url) as session:
        task = session.get(HumanTask, task_id)
        assert task is not None
        return task


def letters(runtime: Runtime) -> list[OutreachMessage]:
    with session_scope(runtime.database_url) as session:
        return list(session.exec(select(OutreachMessage).where(col(OutreachMessage.purpose) == "legal_notice")))


def test_claim_assign_release_and_reassign_follow_the_roles(runtime: Runtime) -> None:
    task_id, _ = escalation(runtime)
    with session_scope(runtime.database_url) as session:
        with pytest.raises(TaskError, match="needs the role 'legal'"):
            claim(session, task_id, "agent.ann", frozenset({"agent"}), NOW)
        claim(session, task_id, "legal.lee", LEGAL, NOW)
        with pytest.raises(TaskError, match=r"claimed by legal\.lee"):
            claim(session, task_id, "legal.kim", LEGAL, NOW)
        with pytest.raises(TaskError, match=r"claimed by legal\.lee"):
            release(session, task_id, "legal.kim", LEGAL, NOW)
        with pytest.raises(TaskError, match="only a supervisor or an admin"):
            assign(session, task_id, "legal.kim", "legal.lee", LEGAL, NOW)
        assign(session, task_id, "legal.kim", "supervisor.sam", SUPERVISOR, NOW)
        release(session, task_id, "legal.kim", LEGAL, NOW)
        with pytest.raises(TaskError, match="not claimed"):
            release(session, task_id, "legal.kim", LEGAL, NOW)
    task = reload(runtime, task_id)
    assert (task.assignee, task.version) == (None, 3)
    with session_scope(runtime.database_url) as session:
        steps = [(a.kind, a.actor, a.text) for a in activities(session, task_id)]
        audited = session.scalars(sa.select(col(AuditEvent.kind)).order_by(col(AuditEvent.id))).all()
    assert steps == [
        ("claim", "legal.lee", "legal.lee"),
        ("reassign", "supervisor.sam", "legal.lee -> legal.kim"),
        ("release", "legal.kim", "legal.kim"),
    ]
    assert [k for k in audited if k.startswith("task.")] == ["task.claim", "task.reassign", "task.release"]


def test_a_claimed_task_is_decided_only_by_its_assignee(runtime: Runtime) -> None:
    task_id, _ = escalation(runtime)
    with session_scope(runtime.database_url) as session:
        claim(session, task_id, "legal.lee", LEGAL, NOW)
    with pytest.raises(DecisionError, match=r"claimed by legal\.lee"), session_scope(runtime.database_url) as session:
        decide_task(session, task_id, 1, "approve", "criteria met", "legal.kim", NOW, LEGAL)
    with session_scope(runtime.database_url) as session:
        assert decide_task(session, task_id, 1, "approve", "criteria met", "legal.lee", NOW, LEGAL).status == "approved"


def test_deciding_takes_the_kinds_role_and_never_the_requesters(runtime: Runtime) -> None:
    task_id, account_id = escalation(runtime)
    with session_scope(runtime.database_url) as session:
        with pytest.raises(DecisionError, match="needs the role 'legal'"):
            decide_task(session, task_id, 0, "approve", "ok", "supervisor.sam", NOW, SUPERVISOR)
        with pytest.raises(DecisionError, match="another person must decide"):
            decide_task(session, task_id, 0, "approve", "ok", SYSTEM, NOW, ROLES)
        mine = open_task(
            session, runtime.config.tasks, "complaint", account_id, {"note": "rude call"}, "agent.ann", NOW
        )
        with pytest.raises(DecisionError, match="another person must decide"):
            decide_task(session, mine.id, 0, "approve", "handled", "agent.ann", NOW, ROLES)  # type: ignore[arg-type]
        assert (mine.role_needed, mine.due_at) == ("supervisor", NOW + timedelta(hours=72))
        decided = decide_task(session, mine.id, 0, "approve", "apologised", "supervisor.sam", NOW, SUPERVISOR)  # type: ignore[arg-type]
    assert decided.status == "approved"


def test_a_large_balance_needs_two_different_approvers(runtime: Runtime) -> None:
    task_id, account_id = escalation(runtime, approvals_needed=2)
    with session_scope(runtime.database_url) as session:
        first = decide_task(session, task_id, 0, "approve", "criteria met", "legal.lee", NOW, LEGAL)
        assert (first.status, first.version) == ("open", 1)
        with pytest.raises(DecisionError, match="already approved task"):
            decide_task(session, task_id, 1, "approve", "again", "legal.lee", NOW, LEGAL)
        with pytest.raises(DecisionError, match="changed while you were looking"):
            decide_task(session, task_id, 0, "approve", "stale form", "legal.kim", NOW, LEGAL)
        second = decide_task(session, task_id, 1, "approve", "second look", "legal.kim", NOW, LEGAL)
        assert (second.status, second.decided_by) == ("approved", "legal.kim")
        case = session.exec(select(LegalCase).where(col(LegalCase.account_id) == account_id)).one()
        assert case.approved_by == "legal.lee, legal.kim"
        decided = session.exec(select(AuditEvent).where(col(AuditEvent.kind) == "task.decided")).one()
        assert decided.data["approvers"] == ["legal.lee", "legal.kim"]


def test_a_rejection_after_one_approval_ends_it_and_returns_to_negotiation(runtime: Runtime) -> None:
    task_id, account_id = escalation(runtime, approvals_needed=2)
    with session_scope(runtime.database_url) as session:
        decide_task(session, task_id, 0, "approve", "criteria met", "legal.lee", NOW, LEGAL)
        rejected = decide_task(session, task_id, 1, "reject", "customer sent a plan", "legal.kim", NOW, LEGAL)
        account = session.get(Account, account_id)
        assert account is not None
        assert (rejected.status, account.stage, account.next_action_on) == ("rejected", "negotiation", NOW.date())
        assert session.exec(select(LegalCase)).all() == []
        [back] = session.exec(select(AuditEvent).where(col(AuditEvent.kind) == "escalation.rejected")).all()
        assert back.data["reason"] == "customer sent a plan"


def test_two_people_deciding_at_the_same_instant_end_with_one_decision(runtime: Runtime) -> None:
    task_id, _ = escalation(runtime)
    barrier = threading.Barrier(2)
    results: dict[str, str] = {}

    def decide_as(user: str, decision: str) -> None:
        barrier.wait()
        try:
            with session_scope(runtime.database_url) as session:
                decide_task(session, task_id, 0, decision, "both looked at version 0", user, NOW, LEGAL)
            results[user] = "decided"
        except DecisionError as exc:
            results[user] = str(exc)
        except sa.exc.OperationalError as exc:  # SQLite: the second writer may find the file locked
            results[user] = f"locked: {exc}"

    threads = [
        threading.Thread(target=decide_as, args=("legal.lee", "approve")),
        threading.Thread(target=decide_as, args=("legal.kim", "reject")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    winners = [user for user, outcome in results.items() if outcome == "decided"]
    assert len(winners) == 1, results
    [loser] = set(results) - set(winners)
    assert "already" in results[loser] or "changed" in results[loser] or "locked" in results[loser]
    task = reload(runtime, task_id)
    assert (task.decided_by, task.version) == (winners[0], 1)
    with session_scope(runtime.database_url) as session:
        decided = session.scalar(sa.select(sa.func.count()).where(col(AuditEvent.kind) == "task.decided"))
        cases = session.scalar(sa.select(sa.func.count()).select_from(LegalCase))
    assert decided == 1
    assert cases == (1 if task.status == "approved" else 0)


def test_approval_queues_the_demand_letter_at_once(runtime: Runtime) -> None:
    task_id, account_id = escalation(runtime)

    done = decide(runtime.database_url, task_id, 0, "approve", "criteria met", "legal.lee", LEGAL, NOW)

    assert (done.status, done.continuation) == ("approved", QUEUED)
    [letter] = letters(runtime)
    with session_scope(runtime.database_url) as session:
        case = session.get(LegalCase, done.case_id)
        assert case is not None
        assert (case.demand_letter_id, letter.account_id, letter.stage) == (letter.id, account_id, "legal")
    assert "Attorney demand letter" in letter.body
    assert "court proceedings" in letter.body


def test_a_continuation_whose_start_fails_is_picked_up_by_the_next_cycle(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    task_id, _ = escalation(runtime)

    def unreachable(*args: object) -> None:
        raise ConnectionError("worker unreachable")

    with monkeypatch.context() as patched:
        patched.setattr(legal, "proceed", unreachable)
        done = decide(runtime.database_url, task_id, 0, "approve", "criteria met", "legal.lee", LEGAL, NOW)

    assert (done.status, done.continuation) == ("approved", DEFERRED)
    assert letters(runtime) == []
    with session_scope(runtime.database_url) as session:
        run_day(session, runtime, date(2026, 4, 2))
    [letter] = letters(runtime)
    with session_scope(runtime.database_url) as session:
        run_day(session, runtime, date(2026, 4, 3))  # the next cycle finds nothing left to do
        assert session.get(LegalCase, done.case_id).demand_letter_id == letter.id  # type: ignore[union-attr]
    assert len(letters(runtime)) == 1


def test_with_a_prefect_server_the_decision_triggers_a_deployment_run(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[int] = []
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    monkeypatch.setattr(continuation, "_run_deployment", started.append)
    task_id, _ = escalation(runtime)

    done = decide(runtime.database_url, task_id, 0, "approve", "criteria met", "legal.lee", LEGAL, NOW)

    assert (done.continuation, started) == (STARTED, [done.case_id])
    assert letters(runtime) == []  # the flow run queues it


def test_the_dispatch_sends_the_demand_letter_to_an_account_in_legal(runtime: Runtime) -> None:
    from overdue.services.dispatch import dispatch_due

    task_id, _ = escalation(runtime)
    decide(runtime.database_url, task_id, 0, "approve", "criteria met", "legal.lee", LEGAL, NOW)
    with session_scope(runtime.database_url) as session:
        dispatch_due(session, runtime.config, runtime.channel, NOW + timedelta(hours=15))
    assert [letter.status for letter in letters(runtime)] == ["sent"]


def test_request_info_then_an_answer_reopens_the_task(runtime: Runtime) -> None:
    task_id, _ = escalation(runtime)
    with session_scope(runtime.database_url) as session:
        asked = decide_task(session, task_id, 0, "request_info", "Is the address current?", "legal.lee", NOW, LEGAL)
        assert (asked.status, asked.decided_by) == ("info_requested", "legal.lee")
        comment(session, task_id, "Still waiting on the bank", "legal.lee", NOW)  # the asker's own note
        assert session.get(HumanTask, task_id).status == "info_requested"  # type: ignore[union-attr]
        comment(session, task_id, "Address confirmed by phone", "agent.ann", NOW)
        task = session.get(HumanTask, task_id)
        assert task is not None
        assert (task.status, task.decided_by, task.version) == ("open", None, 2)
        assert decide_task(session, task_id, 2, "approve", "now complete", "legal.lee", NOW, LEGAL).status == "approved"


def test_evidence_is_sealed_and_opening_it_is_audited(runtime: Runtime) -> None:
    task_id, account_id = escalation(runtime)
    statement = b"%PDF-1.4 bank statement: salary stopped in March"
    with session_scope(runtime.database_url) as session:
        evidence = attach(
            session, runtime.vault, task_id, "statement.pdf", "application/pdf", statement, "agent.ann", NOW
        )
        assert statement not in evidence.content_sealed.encode()
        assert (evidence.task_id, evidence.account_id, evidence.uploaded_by) == (task_id, account_id, "agent.ann")
        with pytest.raises(TaskError, match="empty"):
            attach(session, runtime.vault, task_id, "empty.txt", "text/plain", b"", "agent.ann", NOW)
        _, content = open_evidence(session, runtime.vault, evidence.id, "legal.lee", NOW)  # type: ignore[arg-type]
        assert content == statement
        kinds = session.scalars(sa.select(col(AuditEvent.kind)).where(col(AuditEvent.account_id) == account_id))
        assert {"evidence.attached", "evidence.opened"} <= set(kinds)
        assert session.scalar(sa.select(sa.func.count()).select_from(Evidence)) == 1


def test_the_sla_sweep_escalates_breached_open_tasks_once(runtime: Runtime) -> None:
    late, _ = escalation(runtime, "late")
    with session_scope(runtime.database_url) as session:
        on_time = add_escalation_task(session, add_account(session, "ok", due_date=date(2026, 1, 1)), created_at=NOW)
        done = add_escalation_task(session, add_account(session, "done", due_date=date(2026, 1, 1)), created_at=NOW)
        done.status, done.due_at = "approved", NOW
        on_time.due_at = NOW + timedelta(days=10)
        session.add_all([on_time, done])
    after = NOW + timedelta(hours=72)  # add_escalation_task's SLA: exactly due

    with session_scope(runtime.database_url) as session:
        assert sweep_sla(session, runtime.config.tasks, after).escalated == 1
    with session_scope(runtime.database_url) as session:
        assert sweep_sla(session, runtime.config.tasks, after + timedelta(hours=1)).escalated == 0
        task = session.get(HumanTask, late)
        assert task is not None
        assert (task.escalated_at, task.escalated_to, task.version) == (after, "supervisor", 0)
        [mark] = session.exec(select(TaskActivity).where(col(TaskActivity.kind) == "escalated")).all()
        assert (mark.task_id, mark.text) == (late, "supervisor")
        assert session.scalar(sa.select(sa.func.count()).where(col(AuditEvent.kind) == "task.escalated")) == 1


def test_escalation_waits_for_a_vulnerable_customers_review_and_counts_approvers(
    session: Session, runtime: Runtime
) -> None:
    small = add_account(session, "small", due_date=date(2025, 12, 1))
    large = add_account(session, "large", due_date=date(2025, 12, 1), principal_minor=2_000_000)
    vulnerable = add_account(session, "frail", due_date=date(2025, 12, 1))
    customer = session.get(Customer, vulnerable.customer_id)
    assert customer is not None
    customer.vulnerability = ["elderly"]
    for account in (small, large, vulnerable):
        account.stage, account.dpd = "negotiation", 121
    session.add_all([customer, small, large, vulnerable])
    session.flush()

    assert propose_escalations(session, runtime.config, date(2026, 4, 1), NOW, SHARD) == 2
    tasks = {t.account_id: t for t in session.exec(select(HumanTask))}
    assert vulnerable.id not in tasks
    assert (tasks[small.id].payload["approvals_needed"], tasks[large.id].payload["approvals_needed"]) == (1, 2)  # type: ignore[index]
    assert tasks[small.id].role_needed == "legal"  # type: ignore[index]

    customer.vulnerability_reviewed_on = date(2026, 3, 30)
    session.add(customer)
    assert propose_escalations(session, runtime.config, date(2026, 4, 1), NOW, SHARD) == 1


def test_only_valid_litigation_steps_are_recorded_with_their_costs(runtime: Runtime) -> None:
    task_id, _ = escalation(runtime)
    done = decide(runtime.database_url, task_id, 0, "approve", "criteria met", "legal.lee", LEGAL, NOW)
    assert done.case_id is not None
    today = datetime(2026, 6, 1, tzinfo=UTC)
    with session_scope(runtime.database_url) as session:
        with pytest.raises(legal.LegalError, match="cannot become judgment"):
            legal.advance(session, done.case_id, "judgment", date(2026, 4, 5), 0, "", "legal.lee", today)
        legal.advance(session, done.case_id, "letter_sent", date(2026, 4, 2), 2_500, "by courier", "legal.lee", today)
        with pytest.raises(legal.LegalError, match="before the previous step"):
            legal.advance(session, done.case_id, "filed", date(2026, 4, 1), 0, "", "legal.lee", today)
        legal.advance(session, done.case_id, "filed", date(2026, 4, 20), 30_000, "docket 26-114", "legal.lee", today)
        case = legal.advance(session, done.case_id, "settled", date(2026, 5, 2), 0, "paid in full", "legal.lee", today)
        assert (case.status, case.costs_minor) == ("settled", 32_500)
        with pytest.raises(legal.LegalError, match="the case has ended"):
            legal.advance(session, done.case_id, "withdrawn", date(2026, 5, 3), 0, "", "legal.lee", today)
        steps = [(e.status, e.happened_on) for e in legal.case_events(session, done.case_id)]
    assert steps == [("letter_sent", date(2026, 4, 2)), ("filed", date(2026, 4, 20)), ("settled", date(2026, 5, 2))]


def test_escalation_counts_only_unpaused_days_past_due(session: Session, runtime: Runtime) -> None:
    """The database narrows the candidates by their calendar days past due; a paused account among them is still
    judged on the days that count (100 past due, 20 of them paused, is below the rule's 91)."""
    today = date(2026, 4, 1)
    accounts = {dpd: add_account(session, f"d{dpd}", due_date=today - timedelta(days=dpd)) for dpd in (30, 95, 100)}
    for dpd, account in accounts.items():
        account.stage, account.dpd = "negotiation", dpd
    session.add_all(accounts.values())
    session.flush()
    paused = accounts[100].id
    assert paused is not None
    first, last = today - timedelta(days=40), today - timedelta(days=21)
    pause_account(session, paused, first, last, "hospital", "ops", today, NOW)

    assert propose_escalations(session, runtime.config, today, NOW, SHARD) == 1
    [task] = session.exec(select(HumanTask)).all()
    assert (task.account_id, task.payload["dpd"]) == (accounts[95].id, 95)  # type: ignore[index]
