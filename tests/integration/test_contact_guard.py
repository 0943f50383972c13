"""The contact guard inside the cycle, on SQLite and PostgreSQL: blocked contacts are never queued or
sent, and each block is recorded with the rules that made it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from sqlmodel import Session, col, select

from overdue.config.models import ROLES
from overdue.runtime import Runtime
from overdue.services import dispatch
from overdue.services.decisions import decide_task
from overdue.store.db import session_scope
from overdue.store.tables import AuditEvent, ContactPoint, Customer, HumanTask, OutreachMessage
from tests.support import add_account, add_message, run_day


def blocks(session: Session, account_id: int) -> list[list[str]]:
    query = select(AuditEvent.data).where(AuditEvent.account_id == account_id, AuditEvent.kind == "message.blocked")
    return [event["rules"] for event in session.exec(query)]


def test_an_opted_out_channel_is_blocked_and_recorded_not_silently_skipped(session: Session, runtime: Runtime) -> None:
    account = add_account(session, "stop", due_date=date(2026, 2, 13))
    sms = session.exec(select(ContactPoint).where(ContactPoint.channel == "sms")).one()
    sms.opted_out_at = datetime(2026, 2, 1, tzinfo=UTC)
    session.add(sms)
    run_day(session, runtime, date(2026, 2, 10))
    assert session.exec(select(OutreachMessage)).all() == []
    assert blocks(session, account.id) == [["us.opt_out"]]  # type: ignore[arg-type]


def test_texts_without_consent_to_automated_contact_are_blocked(session: Session, runtime: Runtime) -> None:
    account = add_account(session, "noconsent", due_date=date(2026, 2, 13))
    for point in session.exec(select(ContactPoint)):
        point.consent = False
        session.add(point)
    run_day(session, runtime, date(2026, 2, 10))
    assert blocks(session, account.id) == [["us.automated_consent"]]  # type: ignore[arg-type]


def test_one_text_a_day_per_customer_across_accounts_at_dispatch(session: Session, runtime: Runtime) -> None:
    first = add_account(session, "two-a", due_date=date(2026, 2, 13))
    second = add_account(session, "two-b", due_date=date(2026, 2, 13))
    second.customer_id = first.customer_id  # one person, two debts
    session.add(second)
    session.flush()
    run_day(session, runtime, date(2026, 2, 10))
    texts = select(OutreachMessage).where(OutreachMessage.channel == "sms")
    assert len(session.exec(texts).all()) == 2  # planned for both accounts (beside a validation notice each)
    noon = datetime.combine(date(2026, 2, 10), time(17), tzinfo=UTC)  # 12:00 in New York
    counts = dispatch.dispatch_due(session, runtime.config, runtime.channel, noon)
    assert (counts.sent, dict(counts.blocked)) == (3, {"us.channel_caps": 1})  # notices are not capped
    statuses = sorted(m.status for m in session.exec(texts))
    assert statuses == ["blocked", "sent"]
    blocked = session.exec(select(OutreachMessage).where(OutreachMessage.status == "blocked")).one()
    assert blocked.error == "blocked by us.channel_caps"


def test_a_vulnerable_customer_gets_one_reminder_then_a_specialist_review(session: Session, runtime: Runtime) -> None:
    account = add_account(session, "elderly", due_date=date(2026, 2, 13))
    customer = session.get(Customer, account.customer_id)
    assert customer is not None
    customer.vulnerability = ["elderly"]
    session.add(customer)
    session.flush()

    run_day(session, runtime, date(2026, 2, 10))  # pre-due text: the one reminder
    dispatch.dispatch_due(session, runtime.config, runtime.channel, datetime(2026, 2, 10, 17, tzinfo=UTC))
    run_day(session, runtime, date(2026, 2, 13))  # due-date email: stopped, review opened
    assert blocks(session, account.id) == [["us.vulnerable_review"]]  # type: ignore[arg-type]
    review = session.exec(select(HumanTask).where(HumanTask.kind == "vulnerability_review")).one()
    assert (review.role_needed, review.status) == ("supervisor", "open")  # configs/tasks.yaml

    now = datetime(2026, 2, 14, 15, tzinfo=UTC)
    decide_task(session, review.id, review.version, "approve", "Called; support agreed", "spec.lin", now, ROLES)  # type: ignore[arg-type]
    session.refresh(customer)
    assert customer.vulnerability_reviewed_on == date(2026, 2, 14)
    run_day(session, runtime, date(2026, 2, 15))  # two days late: the early text goes out
    collection = select(OutreachMessage.step).where(OutreachMessage.purpose == "collection")
    assert list(session.exec(collection.order_by(col(OutreachMessage.id)))) == ["pre_due_sms", "early_sms"]


def test_the_one_reminder_counts_however_long_ago_it_was(session: Session, runtime: Runtime) -> None:
    """Found by the compliance re-check: the guard only looked 8 days back, so a vulnerable customer
    reminded 12 days earlier was contacted again without a review."""
    account = add_account(session, "elderly-later", due_date=date(2026, 2, 13))
    customer = session.get(Customer, account.customer_id)
    assert customer is not None
    customer.vulnerability = ["elderly"]
    session.add(customer)
    run_day(session, runtime, date(2026, 2, 10))
    dispatch.dispatch_due(session, runtime.config, runtime.channel, datetime(2026, 2, 10, 17, tzinfo=UTC))
    account.next_action_on = date(2026, 2, 22)
    session.add(account)
    run_day(session, runtime, date(2026, 2, 22))  # day 9: the call step, twelve days after the reminder
    assert blocks(session, account.id) == [["us.vulnerable_review"]]  # type: ignore[arg-type]


def test_the_compliance_report_finds_no_violation_in_what_the_guard_sent_and_flags_a_forged_one(
    runtime: Runtime,
) -> None:
    from typer.testing import CliRunner

    from overdue.cli import app

    with session_scope(runtime.database_url) as session:
        account = add_account(session, "report", due_date=date(2026, 2, 13))
        run_day(session, runtime, date(2026, 2, 10))
        dispatch.dispatch_due(session, runtime.config, runtime.channel, datetime(2026, 2, 10, 17, tzinfo=UTC))
    args = [
        "compliance",
        "report",
        "--from",
        "2026-02-01",
        "--to",
        "2026-02-28",
        "--database-url",
        runtime.database_url,
    ]
    clean = CliRunner().invoke(app, [*args, "--json"])
    assert clean.exit_code == 0, clean.output
    assert '"violations": []' in clean.output
    assert '"rechecked": 2' in clean.output  # the pre-due text and the validation notice

    with session_scope(runtime.database_url) as session:  # a text sent at 22:00 in New York, around the guard
        night = datetime(2026, 2, 12, 3, tzinfo=UTC)
        add_message(session, account, night, idempotency_key="forged", status="sent", sent_at=night)
    flagged = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert flagged.exit_code == 1, flagged.output
    assert "us.contact_window" in flagged.output
    assert "1 of 3 contacts broke a rule" in flagged.output


def test_a_dispute_ends_with_the_verification_letter_then_collection_resumes(
    session: Session, runtime: Runtime
) -> None:
    from overdue.services.disputes import open_dispute, verify_dispute
    from overdue.services.holds import HoldError

    account = add_account(
        session,
        "disputed",
        due_date=date(2026, 2, 13),
        locale="zh-CN",
        jurisdiction="CN",
        currency="CNY",
        time_zone="Asia/Shanghai",
    )
    account_id: int = account.id  # type: ignore[assignment]
    disputed_on = datetime(2026, 2, 14, 2, tzinfo=UTC)
    hold = open_dispute(
        session, runtime.config, account_id, "Says the fee is wrong", "ops.bo", disputed_on.date(), True, disputed_on
    )
    hold_id: int = hold.id  # type: ignore[assignment]
    run_day(session, runtime, date(2026, 2, 15))  # the early text is refused while the dispute is open
    assert blocks(session, account_id) == [["cn.holds"]]

    with pytest.raises(HoldError, match="note of what was verified"):
        verify_dispute(session, runtime.renderer, runtime.sender, hold_id, " ", "ops.bo", disputed_on)  # type: ignore[arg-type]
    checked = datetime(2026, 2, 20, 3, tzinfo=UTC)
    letter = verify_dispute(
        session, runtime.renderer, runtime.sender, hold_id, "Fee matches the agreement", "ops.bo", checked
    )  # type: ignore[arg-type]
    assert (letter.channel, letter.purpose, letter.template) == ("letter", "verification", "dispute_verification")
    assert "核实结果" in letter.body
    session.refresh(hold)
    assert hold.ends_on == date(2026, 2, 19)
    assert dispatch.dispatch_due(session, runtime.config, runtime.channel, checked).sent == 1

    run_day(session, runtime, date(2026, 2, 20))  # collection resumes after the verification went out
    assert session.exec(select(OutreachMessage).where(OutreachMessage.purpose == "collection")).first() is not None
