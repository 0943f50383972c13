"""`overdue tasks ...` and `overdue legal ...` end to end on a migrated SQLite file, and the hand-off package's
content: the case data as JSON, the demand letter in both languages, the CSV statement and the evidence."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlmodel import col, select
from typer.testing import CliRunner, Result

from overdue.cli import app
from overdue.store.db import session_scope
from overdue.store.tables import AuditEvent, HumanTask, LegalCase, LegalCaseEvent, Payment
from tests.support import add_account, add_escalation_task, pdf_text


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "1000"})


def escalation(url: str) -> tuple[int, int]:
    now = datetime.now(UTC)
    with session_scope(url) as session:
        account = add_account(session, "lg", due_date=now.date() - timedelta(days=120))
        session.add(
            Payment(
                payment_ref="PAY-1",
                account_id=account.id,  # type: ignore[arg-type]
                amount_minor=7_500,
                currency="USD",
                received_on=now.date() - timedelta(days=60),
                source="import",
                to_principal_minor=7_500,
                created_at=now,
            )
        )
        account.principal_minor -= 7_500
        task = add_escalation_task(session, account, created_at=now)
        assert task.id is not None
        assert account.id is not None
        return task.id, account.id


def test_a_task_goes_through_the_queue_and_its_case_to_counsel(sqlite_url: str, tmp_path: Path) -> None:
    db = ("--database-url", sqlite_url)
    task_id, account_id = escalation(sqlite_url)
    evidence = tmp_path / "statement.txt"
    evidence.write_text("Bank statement: no income since March", encoding="utf-8")

    listed = invoke("tasks", "list", "--role", "legal", *db)
    assert listed.exit_code == 0, listed.output
    assert "legal_escalation" in listed.output
    assert "1 task(s), 0 past SLA." in listed.output
    steps = [
        ("tasks", "claim", str(task_id), "--as", "legal.lee", "--role", "legal"),
        ("tasks", "release", str(task_id), "--as", "legal.lee", "--role", "legal"),
        ("tasks", "assign", str(task_id), "legal.kim", "--as", "supervisor.sam", "--role", "supervisor"),
        ("tasks", "comment", str(task_id), "Customer stopped answering in March", "--as", "legal.kim"),
        ("tasks", "attach", str(task_id), str(evidence), "--as", "agent.ann", "--note", "from the customer"),
    ]
    for step in steps:
        result = invoke(*step, *db)
        assert result.exit_code == 0, (step, result.output)
    mine = invoke("tasks", "list", "--mine", "--as", "legal.kim", *db)
    assert f"{task_id} " in mine.output
    refused = invoke(
        "tasks", "decide", str(task_id), "--approve", "--reason", "ok", "--as", "legal.lee", "--role", "legal", *db
    )
    assert refused.exit_code == 1
    assert "claimed by legal.kim" in refused.output

    approved = invoke(
        "tasks",
        "decide",
        str(task_id),
        "--approve",
        "--reason",
        "Criteria met",
        "--as",
        "legal.kim",
        "--role",
        "legal",
        *db,
    )
    assert approved.exit_code == 0, approved.output
    with session_scope(sqlite_url) as session:
        case = session.exec(select(LegalCase).where(col(LegalCase.account_id) == account_id)).one()
        case_id = case.id
        assert case.demand_letter_id is not None
    assert f"Legal case {case_id} opened; demand letter: queued." in approved.output
    shown = invoke("tasks", "show", str(task_id), *db)
    assert all(kind in shown.output for kind in ("claim", "release", "assign", "comment", "attachment", "approval"))

    letter_path = tmp_path / "letter.pdf"
    lettered = invoke("legal", "letter", str(case_id), "--locale", "zh-CN", "-o", str(letter_path), *db)
    assert lettered.exit_code == 0, lettered.output
    assert "律师函" in pdf_text(letter_path.read_bytes())

    package_path = tmp_path / "case.zip"
    packaged = invoke("legal", "package", str(case_id), "-o", str(package_path), "--as", "legal.kim", *db)
    assert packaged.exit_code == 0, packaged.output
    with zipfile.ZipFile(package_path) as archive:
        names = set(archive.namelist())
        data = json.loads(archive.read("case.json"))
        english = pdf_text(archive.read("demand_letter.en-US.pdf"))
        chinese = pdf_text(archive.read("demand_letter.zh-CN.pdf"))
        statement = list(csv.DictReader(io.StringIO(archive.read("statement.csv").decode())))
        kept = archive.read(next(name for name in names if name.startswith("evidence/")))
    assert {"case.json", "demand_letter.en-US.pdf", "demand_letter.zh-CN.pdf", "statement.csv"} <= names
    assert data["case_ref"] == f"LC-{case_id:06d}"
    assert (data["account"]["balance_minor"], data["legal_case"]["status"]) == (100_000, "approved")
    assert data["customer"]["name"] == "Test Person"
    assert [e["filename"] for e in data["evidence"]] == ["statement.txt"]
    assert "Attorney demand letter" in english
    assert "$1,000.00" in english
    assert "律师函" in chinese
    assert [(row["description"], row["amount"]) for row in statement] == [
        ("balance placed for collection", "1075.00"),
        ("payment PAY-1", "-75.00"),
    ]
    assert Decimal(statement[-1]["balance"]) == Decimal("1000.00")
    assert sum(Decimal(row["amount"]) for row in statement) == Decimal("1000.00")
    assert kept == b"Bank statement: no income since March"

    day = datetime.now(UTC).date().isoformat()  # the case opened today: no step can be dated before it
    for state, cost in (("letter_sent", "25.00"), ("filed", "300.00")):
        moved = invoke("legal", "advance", str(case_id), state, "--on", day, "--cost", cost, "--as", "legal.kim", *db)
        assert moved.exit_code == 0, moved.output
    assert "costs so far $325.00" in moved.output
    wrong = invoke("legal", "advance", str(case_id), "letter_sent", "--as", "legal.kim", *db)
    assert wrong.exit_code == 1
    assert "cannot become letter_sent" in wrong.output
    listed_cases = invoke("legal", "list", *db)
    assert "filed" in listed_cases.output
    with session_scope(sqlite_url) as session:
        assert len(session.exec(select(LegalCaseEvent)).all()) == 2
        assert session.get(HumanTask, task_id).status == "approved"  # type: ignore[union-attr]


def test_opening_a_task_by_hand_and_the_sla_sweep(sqlite_url: str) -> None:
    db = ("--database-url", sqlite_url)
    _, account_id = escalation(sqlite_url)
    opened = invoke(
        "tasks", "open", "agent_call", str(account_id), "--note", "Call back Friday", "--as", "agent.ann", *db
    )
    assert opened.exit_code == 0, opened.output
    assert "for the 'agent' role" in opened.output
    unknown = invoke("tasks", "open", "gossip", str(account_id), "--note", "x", "--as", "agent.ann", *db)
    assert unknown.exit_code == 1
    assert "unknown task kind 'gossip'" in unknown.output
    swept = invoke("tasks", "sweep", *db)
    assert swept.exit_code == 0, swept.output
    assert "0 task(s) escalated to supervisor." in swept.output


def test_a_dashboard_user_acts_with_the_roles_the_users_table_gives(sqlite_url: str) -> None:
    from overdue.services.users import add_user, disable_user

    db = ("--database-url", sqlite_url)
    task_id, _ = escalation(sqlite_url)
    with session_scope(sqlite_url) as session:
        now = datetime.now(UTC)
        add_user(session, "lee", "correct horse battery", ["legal"], "en-US", "admin.ada", now)
        add_user(session, "sam", "correct horse battery", ["supervisor"], "en-US", "admin.ada", now)
        disable_user(session, "sam", "admin.ada", now)

    widened = invoke("tasks", "claim", str(task_id), "--as", "lee", "--role", "supervisor", *db)
    assert widened.exit_code == 1
    assert "lee does not hold the role(s) supervisor." in widened.output
    disabled = invoke("tasks", "assign", str(task_id), "lee", "--as", "sam", *db)
    assert disabled.exit_code == 1
    assert "User sam is disabled." in disabled.output
    decided = invoke(
        "tasks", "decide", str(task_id), "--reject", "--reason", "Plan agreed by phone", "--as", "lee", *db
    )
    assert decided.exit_code == 0, decided.output
    assert f"Task {task_id} rejected by lee." in decided.output


def test_a_tasks_evidence_is_listed_and_saved_each_opening_audited(sqlite_url: str, tmp_path: Path) -> None:
    db = ("--database-url", sqlite_url)
    task_id, _ = escalation(sqlite_url)
    upload = tmp_path / "bank statement (March).txt"
    upload.write_text("no income since March", encoding="utf-8")
    assert invoke("tasks", "attach", str(task_id), str(upload), "--as", "agent.ann", *db).exit_code == 0

    listed = invoke("tasks", "evidence", str(task_id), "--as", "legal.lee", *db)
    assert listed.exit_code == 0, listed.output
    assert "bank statement (March).txt" in listed.output
    assert "agent.ann" in listed.output
    out = tmp_path / "out"
    saved = invoke("tasks", "evidence", str(task_id), "--as", "legal.lee", "--out", str(out), *db)
    assert saved.exit_code == 0, saved.output
    assert (out / "1-bank_statement__March_.txt").read_text(encoding="utf-8") == "no income since March"
    again = invoke("tasks", "evidence", str(task_id), "--as", "legal.lee", "--out", str(out), *db)
    assert again.exit_code == 1
    assert "exists already; nothing was saved" in again.output
    assert invoke("tasks", "evidence", "999", "--as", "legal.lee", *db).exit_code == 1
    with session_scope(sqlite_url) as session:
        opened = session.exec(select(AuditEvent).where(col(AuditEvent.kind) == "evidence.opened")).all()
    assert [(e.actor, e.data["evidence_id"]) for e in opened] == [("legal.lee", 1)], "listing opens nothing"
