"""What customers tell us, on SQLite and PostgreSQL: a conversation stops calls for a week, an opt-out
or a revoked consent binds on the next contact, and a relative hears from us only to find a debtor we
cannot reach, with nothing said about a debt."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from sqlmodel import Session, col, select

from overdue.runtime import Runtime
from overdue.services import dispatch
from overdue.services.contact_preferences import PreferenceError, add_contact_point, opt_in, opt_out, set_consent
from overdue.services.conversations import ConversationError, record_conversation
from overdue.store.tables import AuditEvent, ContactPoint, OutreachMessage
from tests.support import add_account, run_day, with_champion

SH = {"jurisdiction": "CN", "currency": "CNY", "locale": "zh-CN", "time_zone": "Asia/Shanghai"}


def blocked_rules(session: Session, account_id: int) -> list[list[str]]:
    query = select(AuditEvent).where(AuditEvent.account_id == account_id, AuditEvent.kind == "message.blocked")
    return [event.data["rules"] for event in session.exec(query.order_by(col(AuditEvent.id)))]


def audit(session: Session, account_id: int, kind: str) -> list[dict[str, Any]]:
    query = select(AuditEvent).where(AuditEvent.account_id == account_id, AuditEvent.kind == kind)
    return [event.data for event in session.exec(query.order_by(col(AuditEvent.id)))]


def test_a_telephone_conversation_stops_calls_on_that_debt_for_seven_days(session: Session, runtime: Runtime) -> None:
    account = add_account(session, "spoke", due_date=date(2026, 2, 13))
    account_id: int = account.id  # type: ignore[assignment]
    account.next_action_on = date(2026, 2, 22)
    session.add(account)
    spoke = datetime(2026, 2, 16, 20, tzinfo=UTC)  # 15:00 in New York: day 1
    record_conversation(session, account_id, "voice", spoke, "promise_to_pay", "Will pay Friday", "agent.kim", spoke)
    run_day(session, runtime, date(2026, 2, 22))  # the day-9 call falls on day 7
    assert ["us.after_conversation"] in blocked_rules(session, account_id)
    [logged] = audit(session, account_id, "conversation")
    assert (logged["channel"], logged["outcome"]) == ("voice", "promise_to_pay")


def test_conversations_are_checked_before_they_are_written(session: Session, runtime: Runtime) -> None:
    account = add_account(session, "bad-talk", due_date=date(2026, 2, 13))
    now = datetime(2026, 2, 16, tzinfo=UTC)
    with pytest.raises(ConversationError, match="unknown outcome"):
        record_conversation(session, account.id, "voice", now, "shouted", "", "agent.kim", now)  # type: ignore[arg-type]
    with pytest.raises(ConversationError, match="future"):
        record_conversation(session, account.id, "voice", datetime(2026, 3, 1, tzinfo=UTC), "paid", "", "a", now)  # type: ignore[arg-type]
    assert audit(session, account.id, "conversation") == []  # type: ignore[arg-type]


def test_an_opt_out_binds_on_every_account_and_an_opt_in_lifts_it(session: Session, runtime: Runtime) -> None:
    first = add_account(session, "out-a", due_date=date(2026, 2, 13))
    second = add_account(session, "out-b", due_date=date(2026, 2, 13))
    second.customer_id = first.customer_id
    session.add(second)
    session.flush()
    now = datetime(2026, 2, 9, 15, tzinfo=UTC)
    with pytest.raises(PreferenceError, match="how the customer told us"):
        opt_out(session, first.id, "sms", " ", "ops.bo", now)  # type: ignore[arg-type]
    assert opt_out(session, first.id, "sms", "STOP reply", "ops.bo", now) == 1  # type: ignore[arg-type]
    assert opt_out(session, first.id, "sms", "STOP reply", "ops.bo", now) == 0  # type: ignore[arg-type]
    assert [e["source"] for e in audit(session, second.id, "optout")] == ["STOP reply"]  # type: ignore[arg-type]
    run_day(session, runtime, date(2026, 2, 10))
    assert blocked_rules(session, second.id) == [["us.opt_out"]]  # type: ignore[arg-type]
    assert opt_in(session, first.id, "sms", "asked on the phone", "ops.bo", now) == 1  # type: ignore[arg-type]
    assert audit(session, first.id, "optin")  # type: ignore[arg-type]


def test_an_opt_out_cancels_what_is_already_queued_on_that_channel(session: Session, runtime: Runtime) -> None:
    account = add_account(session, "queued-out", due_date=date(2026, 2, 13))
    account_id: int = account.id  # type: ignore[assignment]
    run_day(session, runtime, date(2026, 2, 10))  # the pre-due text (and the validation letter) are queued
    opt_out(session, account_id, "sms", "STOP reply", "ops.bo", datetime(2026, 2, 10, 5, tzinfo=UTC))
    statuses = {m.channel: m.status for m in session.exec(select(OutreachMessage))}
    assert statuses == {"sms": "cancelled", "letter": "queued"}


def test_revoked_consent_stops_automated_texts_and_the_history_is_kept(session: Session, runtime: Runtime) -> None:
    account = add_account(session, "revoke", due_date=date(2026, 2, 13))
    account_id: int = account.id  # type: ignore[assignment]
    now = datetime(2026, 2, 9, 15, tzinfo=UTC)
    set_consent(session, account_id, "sms", False, "said so on a call", "ops.bo", now)
    run_day(session, runtime, date(2026, 2, 10))
    assert blocked_rules(session, account_id) == [["us.automated_consent"]]
    set_consent(session, account_id, "sms", True, "web form", "ops.bo", now)
    kinds = list(session.exec(select(AuditEvent.kind).where(AuditEvent.account_id == account_id)))
    assert [k for k in kinds if k.startswith("consent.")] == ["consent.revoked", "consent.granted"]


def make_unreachable(session: Session, customer_id: int) -> None:
    mine = select(ContactPoint).where(ContactPoint.customer_id == customer_id, ContactPoint.party == "debtor")
    for point in session.exec(mine):
        point.invalid_at = datetime(2026, 2, 1, tzinfo=UTC)
        session.add(point)
    session.flush()


def test_a_relative_is_asked_to_pass_on_our_number_only_when_the_debtor_is_unreachable(
    session: Session, runtime: Runtime
) -> None:
    account = add_account(session, "lost", due_date=date(2026, 2, 13), **SH)  # type: ignore[arg-type]
    account_id: int = account.id  # type: ignore[assignment]
    now = datetime(2026, 2, 9, 3, tzinfo=UTC)
    with pytest.raises(PreferenceError, match="relation"):
        add_contact_point(session, runtime.config, account_id, "sms", "13800138000", "third_party", None, "ops.li", now)
    sister = add_contact_point(
        session, runtime.config, account_id, "sms", "138 0013 8000", "third_party", "sister", "ops.li", now
    )
    assert sister.address == "+8613800138000"

    run_day(session, runtime, date(2026, 2, 10))  # reachable: the cadence texts the debtor, never the sister
    sent_to = [m.address for m in session.exec(select(OutreachMessage))]
    assert sister.address not in sent_to

    make_unreachable(session, account.customer_id)
    run_day(session, runtime, date(2026, 2, 15))  # early text: no number of the debtor's works any more
    [locate] = session.exec(select(OutreachMessage).where(OutreachMessage.purpose == "locate")).all()
    assert (locate.address, locate.template) == (sister.address, "locate")
    assert "欠" not in locate.body
    counts = dispatch.dispatch_due(session, runtime.config, runtime.channel, datetime(2026, 2, 15, 4, tzinfo=UTC))
    assert counts.sent == 1
    account.next_action_on = date(2026, 2, 18)
    session.add(account)
    run_day(session, runtime, date(2026, 2, 18))  # within the week: no second message to the sister
    assert len(session.exec(select(OutreachMessage).where(OutreachMessage.purpose == "locate")).all()) == 1


def test_a_locate_text_too_long_for_the_strategy_gives_way_to_the_relatives_next_contact_point(
    session: Session, runtime: Runtime
) -> None:
    one_segment = with_champion(runtime, sms_max_segments=1)
    account = add_account(session, "lost-us", due_date=date(2026, 2, 13))
    account_id: int = account.id  # type: ignore[assignment]
    now = datetime(2026, 2, 9, 15, tzinfo=UTC)
    for channel, address in (("sms", "+1 312 555 0147"), ("email", "sister@example.com")):
        point = add_contact_point(
            session, runtime.config, account_id, channel, address, "third_party", "sister", "a", now
        )
        point.consent = True  # she agreed to texts: only the length stands in the way
    make_unreachable(session, account.customer_id)
    run_day(session, one_segment, date(2026, 2, 15))
    [locate] = session.exec(select(OutreachMessage).where(OutreachMessage.purpose == "locate")).all()
    assert (locate.channel, locate.address) == ("email", "sister@example.com")  # the English text needs two
    skipped = audit(session, account_id, "message.skipped")
    assert skipped[0] == {"step": "early_sms", "reason": "no usable contact point"}
    assert skipped[1] == {
        "reason": "sms too long",
        "segments": 2,
        "encoding": "GSM-7",
        "max_segments": 1,
        "step": "locate",
    }


def test_a_message_to_a_relative_is_blocked_at_dispatch_once_the_debtor_is_reachable_again(
    session: Session, runtime: Runtime
) -> None:
    account = add_account(session, "found", due_date=date(2026, 2, 13), **SH)  # type: ignore[arg-type]
    account_id: int = account.id  # type: ignore[assignment]
    now = datetime(2026, 2, 9, 3, tzinfo=UTC)
    add_contact_point(session, runtime.config, account_id, "sms", "13800138000", "third_party", "friend", "a", now)
    make_unreachable(session, account.customer_id)
    run_day(session, runtime, date(2026, 2, 15))
    add_contact_point(session, runtime.config, account_id, "email", "new@example.com", "debtor", None, "a", now)
    counts = dispatch.dispatch_due(session, runtime.config, runtime.channel, datetime(2026, 2, 15, 4, tzinfo=UTC))
    assert (counts.sent, dict(counts.blocked)) == (0, {"cn.third_party": 1})


def test_the_compliance_report_accepts_a_lawful_locate_message(session: Session, runtime: Runtime) -> None:
    from overdue.services.compliance_report import compliance_report

    account = add_account(session, "report-lost", due_date=date(2026, 2, 13), **SH)  # type: ignore[arg-type]
    now = datetime(2026, 2, 9, 3, tzinfo=UTC)
    add_contact_point(session, runtime.config, account.id, "voice", "13800138000", "third_party", "mother", "a", now)  # type: ignore[arg-type]
    make_unreachable(session, account.customer_id)
    run_day(session, runtime, date(2026, 2, 15))
    sent = dispatch.dispatch_due(
        session, runtime.config, runtime.channel, datetime.combine(date(2026, 2, 15), time(4), UTC)
    )
    assert sent.sent == 1
    report = compliance_report(session, runtime.config, date(2026, 2, 1), date(2026, 2, 28))
    assert (report.rechecked, report.violations) == (1, [])
