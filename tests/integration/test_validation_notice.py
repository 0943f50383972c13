"""US validation notices and disputes, on SQLite and PostgreSQL: the notice goes out with the first
collection contact, collection stops if it cannot, and a dispute records whether it was timely."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlmodel import Session, col, select

from overdue.runtime import Runtime
from overdue.services.dispatch import DispatchCounts, dispatch_due
from overdue.services.disputes import open_dispute, verify_dispute
from overdue.store.tables import AuditEvent, OutreachMessage
from tests.support import add_account, run_day

NOON_NY = time(17)  # 12:00 in New York in winter


def dispatch(session: Session, runtime: Runtime, day: date) -> DispatchCounts:
    return dispatch_due(session, runtime.config, runtime.channel, datetime.combine(day, NOON_NY, tzinfo=UTC))


def messages(session: Session, account_id: int) -> list[OutreachMessage]:
    query = select(OutreachMessage).where(OutreachMessage.account_id == account_id).order_by(col(OutreachMessage.id))
    return list(session.exec(query))


def events(session: Session, account_id: int, kind: str) -> list[dict[str, Any]]:
    query = select(AuditEvent).where(AuditEvent.account_id == account_id, AuditEvent.kind == kind)
    return [event.data for event in session.exec(query.order_by(col(AuditEvent.id)))]


def test_the_notice_is_queued_with_the_first_collection_contact_and_only_once(
    session: Session, runtime: Runtime
) -> None:
    account = add_account(session, "notice", due_date=date(2026, 2, 13), principal_minor=120_000)
    account_id: int = account.id  # type: ignore[assignment]
    run_day(session, runtime, date(2026, 2, 10))  # the pre-due text is the first collection contact
    first = messages(session, account_id)
    assert [(m.channel, m.purpose, m.template) for m in first] == [
        ("sms", "collection", "pre_due"),
        ("letter", "validation", "validation_notice"),
    ]
    notice = first[1]
    assert notice.send_at == first[0].send_at
    assert "is a debt collector" in notice.body
    assert "$1,275.00" in notice.body  # total now, itemized
    # Sent Tue 10 Feb 2026: receipt presumed 5 business days later (Presidents' Day, 16 Feb, skipped) -> 18 Feb,
    # and the period ends 30 days after receipt.
    assert "March 20, 2026" in notice.body
    assert dispatch(session, runtime, date(2026, 2, 10)).sent == 2
    run_day(session, runtime, date(2026, 2, 13))  # the due-date email: no second notice
    assert [m.purpose for m in messages(session, account_id)].count("validation") == 1


def test_without_a_way_to_send_the_notice_collection_stops_after_five_days(session: Session, runtime: Runtime) -> None:
    account = add_account(session, "no-notice", due_date=date(2026, 2, 13), channels=("sms", "voice"))
    account_id: int = account.id  # type: ignore[assignment]
    run_day(session, runtime, date(2026, 2, 10))
    assert [m.purpose for m in messages(session, account_id)] == ["collection"]  # no letter or email to send it to
    assert dispatch(session, runtime, date(2026, 2, 10)).sent == 1
    run_day(session, runtime, date(2026, 2, 15))  # day 2 past due: still within 5 days of the first contact
    assert dispatch(session, runtime, date(2026, 2, 15)).sent == 1
    run_day(session, runtime, date(2026, 2, 22))  # day 9 call: 12 days after the first contact
    assert events(session, account_id, "message.blocked")[-1]["rules"] == ["us.validation_notice"]
    assert [m.status for m in messages(session, account_id)] == ["sent", "sent"]


def test_a_dispute_stops_collection_until_the_verification_is_sent(session: Session, runtime: Runtime) -> None:
    account = add_account(session, "dispute-us", due_date=date(2026, 2, 13))
    account_id: int = account.id  # type: ignore[assignment]
    run_day(session, runtime, date(2026, 2, 10))
    dispatch(session, runtime, date(2026, 2, 10))
    received = datetime(2026, 2, 20, 15, tzinfo=UTC)
    hold = open_dispute(session, runtime.config, account_id, "Not my debt", "ops.bo", received.date(), True, received)
    run_day(session, runtime, date(2026, 2, 22))  # the day-9 call
    assert events(session, account_id, "message.blocked")[-1]["rules"] == ["us.holds"]

    verified = received + timedelta(days=6)
    letter = verify_dispute(session, runtime.renderer, runtime.sender, hold.id, "Statement matches", "ops.bo", verified)  # type: ignore[arg-type]
    assert letter.purpose == "verification"
    [resolved] = events(session, account_id, "dispute.resolved")
    assert resolved["resolution"] == "verified"


@pytest.mark.parametrize(
    ("received_on", "written", "timely", "stop_required"),
    [
        (date(2026, 3, 20), True, True, True),  # the last day of the period
        (date(2026, 3, 21), True, False, False),  # a day late: we stop anyway, but the law did not require it
        (date(2026, 3, 20), False, True, False),  # oral
    ],
)
def test_a_dispute_records_whether_it_was_written_and_within_the_validation_period(
    session: Session, runtime: Runtime, received_on: date, written: bool, timely: bool, stop_required: bool
) -> None:
    account = add_account(session, "dispute-period", due_date=date(2026, 2, 13))
    account_id: int = account.id  # type: ignore[assignment]
    run_day(session, runtime, date(2026, 2, 10))
    dispatch(session, runtime, date(2026, 2, 10))  # notice sent Tue 10 Feb: period ends Fri 20 Mar
    now = datetime.combine(received_on, NOON_NY, tzinfo=UTC)
    open_dispute(session, runtime.config, account_id, "Fee is wrong", "ops.bo", received_on, written, now)
    [opened] = events(session, account_id, "dispute.opened")
    assert (
        opened
        | {
            "received_on": received_on.isoformat(),
            "written": written,
            "validation_period_ends_on": "2026-03-20",
            "within_validation_period": timely,
            "collection_stop_required": stop_required,
        }
        == opened
    )


def test_a_dispute_before_the_notice_is_timely(session: Session, runtime: Runtime) -> None:
    account = add_account(session, "early-dispute", due_date=date(2026, 2, 13))
    now = datetime(2026, 2, 5, 15, tzinfo=UTC)
    open_dispute(session, runtime.config, account.id, "Never had this card", "ops.bo", now.date(), True, now)  # type: ignore[arg-type]
    [opened] = events(session, account.id, "dispute.opened")  # type: ignore[arg-type]
    assert (opened["validation_period_ends_on"], opened["collection_stop_required"]) == (None, True)


def test_cn_disputes_carry_no_us_validation_facts(session: Session, runtime: Runtime) -> None:
    account = add_account(
        session,
        "dispute-cn",
        due_date=date(2026, 2, 13),
        jurisdiction="CN",
        currency="CNY",
        locale="zh-CN",
        time_zone="Asia/Shanghai",
    )
    now = datetime(2026, 2, 20, 3, tzinfo=UTC)
    open_dispute(session, runtime.config, account.id, "金额有误", "ops.li", now.date(), False, now)  # type: ignore[arg-type]
    [opened] = events(session, account.id, "dispute.opened")  # type: ignore[arg-type]
    assert "within_validation_period" not in opened
    assert [m.purpose for m in messages(session, account.id)] == []  # type: ignore[arg-type]
