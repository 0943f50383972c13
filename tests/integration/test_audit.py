"""The audit trail: the database refuses to rewrite it, and the export reads it as an auditor would."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlmodel import col, select
from typer.testing import CliRunner, Result

from overdue.cli import app
from overdue.config.models import ROLES
from overdue.services import dispatch
from overdue.services.audit import record
from overdue.services.decisions import decide_task
from overdue.services.payments import PaymentIn, record_payments
from overdue.store.db import session_scope
from overdue.store.migrate import alembic_config
from overdue.store.tables import AuditEvent, HumanTask
from tests.support import add_account, make_runtime, midnight, run_day

CHANNELS = {"sms", "email", "voice", "letter", None}


def audit_rows(url: str) -> list[tuple[int, str, dict[str, Any]]]:
    with session_scope(url) as session:
        query = sa.select(col(AuditEvent.id), col(AuditEvent.kind), col(AuditEvent.data)).order_by(col(AuditEvent.id))
        return [(row.id, row.kind, row.data) for row in session.execute(query)]


# --- append-only ----------------------------------------------------------------------------------


@pytest.fixture
def one_event(database_url: str) -> str:
    with session_scope(database_url) as session:
        account = add_account(session, "audited", due_date=date(2026, 3, 10))
        record(session, "stage.changed", "system:cycle", midnight(date(2026, 3, 7)), account.id, to="reminder")
    return database_url


@pytest.mark.parametrize(
    "statement",
    [
        sa.update(AuditEvent).values(kind="stage.rewritten"),
        sa.update(AuditEvent).values(data={"to": "current"}),
        sa.delete(AuditEvent),
    ],
    ids=["update-kind", "update-data", "delete"],
)
def test_audit_events_cannot_be_updated_or_deleted(one_event: str, statement: sa.Executable) -> None:
    before = audit_rows(one_event)
    with pytest.raises(sa.exc.DBAPIError, match="audit events are append-only"), session_scope(one_event) as session:
        session.execute(statement)
    assert audit_rows(one_event) == before


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_refuses_truncate_too(one_event: str) -> None:
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), session_scope(one_event) as session:
        session.execute(sa.text("TRUNCATE auditevent CASCADE"))
    assert len(audit_rows(one_event)) == 1


def test_inserts_still_work(one_event: str) -> None:
    with session_scope(one_event) as session:
        record(session, "hold.placed", "ops.kim", midnight(date(2026, 3, 8)), None, reason="dispute")
    assert [kind for _, kind, _ in audit_rows(one_event)] == ["stage.changed", "hold.placed"]


def test_downgrade_drops_the_guard_and_upgrade_restores_it(database_url: str) -> None:
    with session_scope(database_url) as session:
        record(session, "account.imported", "import:file.csv", midnight(date(2026, 3, 7)), None)
    config = alembic_config(database_url)
    command.downgrade(config, "0001")
    with session_scope(database_url) as session:
        session.execute(sa.update(AuditEvent).values(actor="system:migration-test"))
    command.upgrade(config, "head")
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), session_scope(database_url) as session:
        session.execute(sa.delete(AuditEvent))


# --- export ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class History:
    url: str
    shanghai: int
    new_york: int
    payer: int
    task_id: int


@pytest.fixture
def history(database_url: str) -> History:
    """Three customers through the real services: a reminder sent in Shanghai, a New York account escalated
    by the cycle and approved by a person, and a New York account paid in full."""
    runtime = make_runtime(database_url)
    config = runtime.config
    with session_scope(database_url) as session:
        shanghai = add_account(
            session,
            "sh",
            due_date=date(2026, 3, 10),
            jurisdiction="CN",
            currency="CNY",
            locale="zh-CN",
            time_zone="Asia/Shanghai",
        )
        new_york = add_account(session, "ny", due_date=date(2025, 11, 1))
        payer = add_account(session, "payer", due_date=date(2026, 2, 13))
        ids = (shanghai.id, new_york.id, payer.id)
    with session_scope(database_url) as session:
        run_day(session, runtime, date(2026, 2, 10))
    with session_scope(database_url) as session:
        payment = PaymentIn("pay-1", ids[2], 107_500, "USD", date(2026, 2, 10), "test")  # type: ignore[arg-type]
        record_payments(session, config, [payment], "import:payments.csv", datetime(2026, 2, 10, 12, tzinfo=UTC))
        dispatch.dispatch_due(session, config, runtime.channel, datetime(2026, 2, 10, 15, 0, tzinfo=UTC))
    with session_scope(database_url) as session:
        task = session.exec(select(HumanTask).where(HumanTask.account_id == ids[1])).one()
        now = datetime(2026, 2, 11, 15, 0, tzinfo=UTC)
        decide_task(session, task.id, task.version, "approve", "Long delinquent", "legal.chen", now, ROLES)  # type: ignore[arg-type]
        task_id: int = task.id  # type: ignore[assignment]
    with session_scope(database_url) as session:
        run_day(session, runtime, date(2026, 3, 7))
        dispatch.dispatch_due(session, config, runtime.channel, datetime(2026, 3, 7, 2, 0, tzinfo=UTC))
    return History(database_url, *ids, task_id=task_id)  # type: ignore[arg-type]


def export(url: str, *args: str) -> list[dict[str, Any]]:
    result = invoke("audit", "export", "--format", "jsonl", "--database-url", url, *args)
    return [json.loads(line) for line in result.stdout.splitlines()]


def invoke(*args: str) -> Result:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


def of_type(events: list[dict[str, Any]], export_type: str, account_id: int) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == export_type and e["account_id"] == account_id]


def test_every_line_is_an_event_with_the_required_keys_in_id_order(history: History) -> None:
    events = export(history.url)
    assert len(events) == len(audit_rows(history.url))
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)
    for event in events:
        ts = datetime.fromisoformat(event["ts"])
        assert ts.utcoffset() == timedelta(0)
        assert event["ts"].endswith(("Z", "+00:00"))
        local = datetime.fromisoformat(event["local_ts"])
        assert local == ts
        assert local.utcoffset() is not None
        assert isinstance(event["account_id"], int)
        assert event["jurisdiction"] in {"US", "CN"}
        assert isinstance(event["type"], str)
        assert event["channel"] in CHANNELS
        assert isinstance(event["actor"], str)
        assert not event["actor"].startswith("system:")
        assert isinstance(event["data"], dict)
        if event["type"].startswith("contact."):
            assert event["data"]["purpose"] in {"collection", "validation", "legal_notice"}  # the demand letter
    assert not {e["type"] for e in events} & {"message.sent", "message.queued", "legal_case.opened"}


def test_local_time_is_the_customers_zone_with_its_offset(history: History) -> None:
    events = export(history.url)
    [sent] = of_type(events, "contact.sent", history.shanghai)
    assert sent["ts"] == "2026-03-07T02:00:00Z"
    assert sent["local_ts"] == "2026-03-07T10:00:00+08:00"
    assert sent["jurisdiction"] == "CN"
    assert sent["channel"] == "sms"  # looked up from the message by its idempotency key
    assert sent["actor"] == "system"
    ny = [e for e in events if e["account_id"] == history.new_york]
    assert ny
    assert all(e["local_ts"].endswith("-05:00") for e in ny)  # EST: February
    assert ny[0]["local_ts"] == "2026-02-09T19:00:00-05:00"
    assert {e["jurisdiction"] for e in ny} == {"US"}


def test_kinds_are_mapped_to_the_export_vocabulary(history: History) -> None:
    events = export(history.url)
    [created] = of_type(events, "task.created", history.new_york)
    assert created["data"]["task_id"] == history.task_id  # found by account, kind and instant
    assert created["data"]["kind"] == "legal_escalation"
    assert "task_kind" not in created["data"]
    [decided] = of_type(events, "task.decided", history.new_york)
    assert (
        decided["data"] | {"task_id": history.task_id, "kind": "legal_escalation", "decision": "approved"}
        == (decided["data"])
    )
    assert decided["actor"] == "legal.chen"
    assert of_type(events, "legal.escalated", history.new_york)[0]["actor"] == "legal.chen"
    moves = [(e["data"]["from"], e["data"]["to"]) for e in of_type(events, "stage.changed", history.new_york)]
    assert moves == [("current", "negotiation"), ("negotiation", "legal")]
    [payment] = of_type(events, "payment.received", history.payer)
    assert payment["actor"] == "import:payments.csv"
    assert payment["data"]["amount_minor"] == 107_500
    assert of_type(events, "stage.changed", history.payer)[-1]["data"]["to"] == "closed"
    queued = of_type(events, "contact.queued", history.payer)
    assert [(e["channel"], e["data"]["purpose"]) for e in queued] == [("sms", "collection"), ("letter", "validation")]
    [cancelled] = of_type(events, "contact.cancelled", history.payer)
    assert cancelled["data"] | {"count": 2, "reason": "paid in full"} == cancelled["data"]
    assert not of_type(events, "contact.sent", history.payer)
    sent = of_type(events, "contact.sent", history.new_york)
    assert [(e["channel"], e["data"]["purpose"]) for e in sent] == [
        ("email", "collection"),
        ("letter", "validation"),
        ("letter", "legal_notice"),  # the demand letter the approval queued
    ]
    assert of_type(events, "offer.made", history.new_york)


def test_account_and_date_filters(history: History) -> None:
    mine = export(history.url, "--account", str(history.shanghai))
    assert mine
    assert {e["account_id"] for e in mine} == {history.shanghai}
    march = export(history.url, "--since", "2026-03-01")
    assert all(e["ts"] >= "2026-03-01" for e in march)
    assert [e for e in march if e["account_id"] == history.shanghai] == mine  # its whole history is in March
    first_day = export(history.url, "--since", "2026-02-10", "--until", "2026-02-10")
    assert first_day
    assert all(e["ts"].startswith("2026-02-10") for e in first_day)
    everything = export(history.url)
    assert len(first_day) == len([e for e in everything if e["ts"].startswith("2026-02-10")])


def test_output_writes_the_same_lines_to_a_file(history: History, tmp_path: Path) -> None:
    target = tmp_path / "audit.jsonl"
    result = invoke("audit", "export", "--database-url", history.url, "--output", str(target))
    lines = target.read_text(encoding="utf-8").splitlines()
    assert f"Wrote {len(lines)} audit events" in result.stdout
    assert [json.loads(line) for line in lines] == export(history.url)
