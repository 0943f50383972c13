"""An agent's logged call: right-party contact and promises kept for the metrics and the contact guard; a
dispute stops collection and opens a review; a hardship report opens a review with its documents sealed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from overdue.cli import app
from overdue.runtime import Runtime
from overdue.services.agent_calls import CallReport, Document, log_call
from overdue.services.conversations import ConversationError
from overdue.store.db import session_scope
from overdue.store.tables import AuditEvent, Conversation, Evidence, Hold, HumanTask
from tests.integration.test_contact_preferences import blocked_rules
from tests.support import add_account, run_day

SPOKE = datetime(2026, 2, 16, 20, tzinfo=UTC)  # 15:00 in New York


def test_a_hardship_report_pauses_collection_and_opens_a_review_with_its_documents_sealed(
    session: Session, runtime: Runtime
) -> None:
    account = add_account(session, "hard", due_date=date(2026, 2, 13))
    report = CallReport(
        account.id,  # type: ignore[arg-type]
        SPOKE,
        "hardship",
        "Lost her job in January",
        documents=(
            Document("termination.pdf", "application/pdf", b"%PDF termination letter"),
            Document("bank.csv", "text/csv", b"date,amount\n2026-01-31,0\n"),
        ),
    )

    logged = log_call(session, runtime, report, "agent.ann", SPOKE)

    review = logged.review
    assert review is not None
    assert (review.kind, review.role_needed, review.requested_by) == ("hardship_review", "supervisor", "agent.ann")
    hold = session.get(Hold, logged.hold_id)
    assert hold is not None
    assert (hold.kind, hold.account_id, review.payload["hold_id"]) == ("hardship", account.id, hold.id)
    kept = session.exec(select(Evidence).where(col(Evidence.task_id) == review.id)).all()
    assert sorted(e.filename for e in kept) == ["bank.csv", "termination.pdf"]
    assert runtime.vault.open_bytes(kept[0].content_sealed) in {
        b"%PDF termination letter",
        b"date,amount\n2026-01-31,0\n",
    }
    assert logged.conversation.right_party


def test_a_dispute_on_a_call_stops_collection_and_opens_a_review(session: Session, runtime: Runtime) -> None:
    account = add_account(session, "disp", due_date=date(2026, 2, 13))
    report = CallReport(account.id, SPOKE, "dispute", "Says the fees were never agreed")  # type: ignore[arg-type]

    logged = log_call(session, runtime, report, "agent.ann", SPOKE)

    hold = session.get(Hold, logged.hold_id)
    assert hold is not None
    assert (hold.kind, hold.account_id) == ("dispute", account.id)
    assert logged.review is not None
    assert logged.review.kind == "dispute_review"


def test_a_promise_and_who_was_on_the_line_are_kept(session: Session, runtime: Runtime) -> None:
    account = add_account(session, "ptp", due_date=date(2026, 2, 13))
    account_id: int = account.id  # type: ignore[assignment]
    with pytest.raises(ConversationError, match="promised date"):
        log_call(session, runtime, CallReport(account_id, SPOKE, "promise_to_pay"), "agent.ann", SPOKE)
    with pytest.raises(ConversationError, match="documents go with a dispute or a hardship"):
        log_call(
            session,
            runtime,
            CallReport(account_id, SPOKE, "refused", documents=(Document("x.txt", "text/plain", b"x"),)),
            "agent.ann",
            SPOKE,
        )
    promise = CallReport(account_id, SPOKE, "promise_to_pay", promised_on=date(2026, 2, 20), promised_minor=50_000)
    log_call(session, runtime, promise, "agent.ann", SPOKE)
    [event] = session.exec(select(AuditEvent).where(col(AuditEvent.kind) == "conversation")).all()
    assert (event.data["right_party"], event.data["promised_on"], event.data["promised_minor"]) == (
        True,
        "2026-02-20",
        50_000,
    )


def test_a_call_with_someone_else_does_not_start_the_no_call_period(session: Session, runtime: Runtime) -> None:
    account = add_account(session, "wrong", due_date=date(2026, 2, 13))
    account_id: int = account.id  # type: ignore[assignment]
    account.next_action_on = date(2026, 2, 22)
    session.add(account)
    log_call(
        session, runtime, CallReport(account_id, SPOKE, "other", "her brother answered", right_party=False), "a", SPOKE
    )
    assert session.exec(select(Conversation)).one().right_party is False

    run_day(session, runtime, date(2026, 2, 22))  # the day-9 call: no right-party conversation before it

    assert ["us.after_conversation"] not in blocked_rules(session, account_id)


def test_the_cli_logs_a_hardship_call_with_its_documents(sqlite_url: str, tmp_path: Path) -> None:
    with session_scope(sqlite_url) as session:
        account_id = add_account(session, "cli", due_date=date(2026, 2, 13)).id
    letter = tmp_path / "doctor.txt"
    letter.write_text("In hospital until March", encoding="utf-8")
    args = ["contacts", "conversation", str(account_id), "--channel", "voice", "--outcome", "hardship"]
    args += ["--note", "In hospital", "--document", str(letter), "--as", "agent.ann", "--database-url", sqlite_url]

    result = CliRunner().invoke(app, args, env={"COLUMNS": "1000"})

    assert result.exit_code == 0, result.output
    assert "Review task" in result.output
    with session_scope(sqlite_url) as session:
        review = session.exec(select(HumanTask).where(col(HumanTask.kind) == "hardship_review")).one()
        assert session.exec(select(Evidence).where(col(Evidence.task_id) == review.id)).one().filename == "doctor.txt"
