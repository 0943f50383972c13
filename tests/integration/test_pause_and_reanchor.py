"""Dated pauses (back-dated too) and re-anchoring after a partial payment, through the cycle day by day:
no stage change and no message while paused, and afterwards every cadence step exactly once, none skipped."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
import yaml
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from overdue.cli import app
from overdue.config.models import StageRule
from overdue.runtime import Runtime
from overdue.services.dispatch import dispatch_due
from overdue.services.holds import HoldError, place_hold, release_hold
from overdue.services.pauses import pause_account, resume_account
from overdue.services.payments import PaymentIn, record_payments
from overdue.store.db import session_scope
from overdue.store.tables import AuditEvent, OutreachMessage
from tests.support import add_account, midnight, run_day, with_champion

REMINDER_STEPS = ["pre_due_sms", "due_email", "early_sms", "early_email", "call_1", "mid_sms", "letter_1", "late_email"]


def cadence(session: Session, account_id: int) -> list[OutreachMessage]:
    """The account's cadence messages in the order they were queued (validation notices have their own tests)."""
    query = select(OutreachMessage).where(
        OutreachMessage.account_id == account_id, OutreachMessage.purpose != "validation"
    )
    return list(session.exec(query.order_by(col(OutreachMessage.id))))


def run_days(session: Session, runtime: Runtime, first: date, last: date) -> None:
    """Each day's cycle, then the outbox at noon in New York, where the test customers live."""
    for n in range((last - first).days + 1):
        day = first + timedelta(days=n)
        run_day(session, runtime, day)
        dispatch_due(session, runtime.config, runtime.channel, datetime.combine(day, time(17), tzinfo=UTC))


def live(messages: list[OutreachMessage]) -> list[tuple[str, date]]:
    """(step, day queued) of the messages not cancelled."""
    return [(m.step, m.created_at.date()) for m in messages if m.status != "cancelled"]  # type: ignore[union-attr]


def test_a_paused_account_keeps_its_stage_and_gets_nothing_then_carries_on_where_it_stopped(
    session: Session, runtime: Runtime
) -> None:
    account = add_account(session, "paused", due_date=date(2026, 3, 10))
    ageing = add_account(session, "ageing", due_date=date(2026, 2, 11))  # 31 days past due on 03-14
    run_days(session, runtime, date(2026, 3, 7), date(2026, 3, 12))
    now = midnight(date(2026, 3, 13))
    for target in (account, ageing):
        pause_account(session, target.id, date(2026, 3, 13), None, "Customer in hospital", "ops.bo", now.date(), now)  # type: ignore[arg-type]
    with pytest.raises(HoldError, match="already paused from 2026-03-13"):
        pause_account(session, account.id, date(2026, 3, 15), None, "Again", "ops.bo", now.date(), now)  # type: ignore[arg-type]
    run_days(session, runtime, date(2026, 3, 13), date(2026, 3, 20))
    session.refresh(ageing)
    assert ageing.stage == "reminder"  # 37 days past due, but paused: no stage change
    assert [m.created_at.date() for m in cadence(session, account.id)][-1] == date(2026, 3, 12)  # type: ignore[union-attr, arg-type]

    resume_account(session, account.id, date(2026, 3, 21), "Back home", "ops.bo", midnight(date(2026, 3, 21)))  # type: ignore[arg-type]
    resume_account(session, ageing.id, date(2026, 3, 21), "Back home", "ops.bo", midnight(date(2026, 3, 21)))  # type: ignore[arg-type]
    run_day(session, runtime, date(2026, 3, 21))
    session.refresh(ageing)
    assert ageing.stage == "reminder"  # 38 days past due less 8 paused: 30
    run_day(session, runtime, date(2026, 3, 22))
    session.refresh(ageing)
    assert (ageing.stage, ageing.stage_entered_on) == ("negotiation", date(2026, 3, 22))

    run_days(session, runtime, date(2026, 3, 23), date(2026, 4, 15))  # still in reminder: 28 days counted
    paused_days = timedelta(days=8)  # 03-13 to 03-20
    sent = live(cadence(session, account.id))  # type: ignore[arg-type]
    assert [step for step, _ in sent] == REMINDER_STEPS  # each once, in order, none skipped
    due = date(2026, 3, 10)
    days = {"pre_due_sms": -3, "due_email": 0, "early_sms": 2, "early_email": 5, "late_email": 26}
    shift = {"early_email": paused_days, "late_email": paused_days}  # the first three came before the pause
    for step, offset in days.items():
        assert dict(sent)[step] == due + timedelta(days=offset) + shift.get(step, timedelta())
    kinds = list(session.exec(select(AuditEvent.kind).where(AuditEvent.account_id == account.id)))
    assert {"hold.placed", "hold.released"} <= set(kinds)


def test_a_back_dated_pause_cancels_what_was_queued_for_its_days_and_repeats_nothing(
    session: Session, runtime: Runtime
) -> None:
    account = add_account(session, "back-dated", due_date=date(2026, 3, 10))
    account_id: int = account.id  # type: ignore[assignment]
    run_days(session, runtime, date(2026, 3, 7), date(2026, 3, 14))
    run_day(session, runtime, date(2026, 3, 15))  # early_email queued, and not sent yet when the pause comes
    now = midnight(date(2026, 3, 16))
    pause_account(session, account_id, date(2026, 3, 14), date(2026, 3, 17), "Bereavement", "ops.bo", now.date(), now)
    [cancelled] = [m for m in cadence(session, account_id) if m.status == "cancelled"]
    assert (cancelled.step, cancelled.error) == ("early_email", "paused")
    assert cancelled.idempotency_key.endswith("~pause1")  # its key is free for the step to come again

    run_days(session, runtime, date(2026, 3, 16), date(2026, 4, 12))
    sent = live(cadence(session, account_id))
    assert [step for step, _ in sent] == REMINDER_STEPS
    assert dict(sent)["early_email"] == date(2026, 3, 15) + timedelta(days=4)  # 03-14 to 03-17 paused
    keys = [m.idempotency_key for m in cadence(session, account_id)]
    assert len(keys) == len(set(keys)) == len(REMINDER_STEPS) + 1


def test_a_message_still_queued_when_a_pause_begins_waits_for_its_end(session: Session, runtime: Runtime) -> None:
    account = add_account(session, "queued", due_date=date(2026, 3, 10))
    account_id: int = account.id  # type: ignore[assignment]
    run_days(session, runtime, date(2026, 3, 7), date(2026, 3, 11))
    run_day(session, runtime, date(2026, 3, 12))  # early_sms queued for today, not sent yet
    evening = datetime(2026, 3, 12, 23, tzinfo=UTC)
    pause_account(
        session, account_id, date(2026, 3, 13), date(2026, 3, 15), "Travelling", "ops.bo", evening.date(), evening
    )
    assert [m.status for m in cadence(session, account_id)][-1] == "queued"  # its day is not a paused one
    run_days(session, runtime, date(2026, 3, 13), date(2026, 3, 20))  # the first paused day's cycle cancels it
    early = [m for m in cadence(session, account_id) if m.step == "early_sms"]
    assert (early[0].status, early[0].error) == ("cancelled", "paused")
    assert [m.created_at.date() for m in early if m.status != "cancelled"] == [date(2026, 3, 16)]  # type: ignore[union-attr]
    sent_days = {m.sent_at.date() for m in cadence(session, account_id) if m.sent_at is not None}
    assert not sent_days & {date(2026, 3, 13), date(2026, 3, 14), date(2026, 3, 15)}


def test_pause_and_resume_from_the_command_line(sqlite_url: str) -> None:
    with session_scope(sqlite_url) as session:
        account_id = add_account(session, "cli-pause", due_date=date(2026, 3, 10)).id
    wide = {"COLUMNS": "400"}
    common = ["--reason", "Hardship call", "--as", "ops.bo", "--database-url", sqlite_url]
    paused = CliRunner().invoke(
        app, ["accounts", "pause", str(account_id), "--from", "2026-03-01", "--until", "2026-03-31", *common], env=wide
    )
    assert paused.exit_code == 0, paused.output
    assert "paused from 2026-03-01 to 2026-03-31" in paused.output
    resumed = CliRunner().invoke(app, ["accounts", "resume", str(account_id), "--on", "2026-03-20", *common], env=wide)
    assert resumed.exit_code == 0, resumed.output
    assert "resumes on 2026-03-20 (pause 1 ended 2026-03-19)" in resumed.output
    again = CliRunner().invoke(app, ["accounts", "resume", str(account_id), "--on", "2026-03-25", *common], env=wide)
    assert again.exit_code == 1
    assert "is not paused on 2026-03-25" in again.output
    held = CliRunner().invoke(app, ["holds", "add", str(account_id), "--kind", "pause", *common], env=wide)
    assert held.exit_code == 1
    assert "overdue accounts pause" in held.output


def with_negotiation_threshold(runtime: Runtime) -> Runtime:
    """Negotiation only for balances of 500.00 or more: a partial payment can bring an account back to reminder.
    A hardship hold puts the account in a stage of its own."""
    stages = tuple(
        StageRule.model_validate(stage)
        for stage in yaml.safe_load(
            """
            - {name: forbearance, when: {flags: [hardship]}}
            - {name: negotiation, when: {dpd_min: 31, balance_min: {USD: "500.00"}}}
            - {name: reminder, when: {dpd_min: -3}}
            - {name: current, when: {}}
            """
        )
    )
    return with_champion(runtime, stages=stages)


def test_an_account_back_from_a_flag_stage_gets_its_reminders_again_from_that_day(
    session: Session, runtime: Runtime
) -> None:
    runtime = with_negotiation_threshold(runtime)
    account = add_account(session, "hardship", due_date=date(2026, 1, 1), principal_minor=30_000)  # 375.00 owed
    account_id: int = account.id  # type: ignore[assignment]
    run_day(session, runtime, date(2026, 2, 9))
    assert account.stage == "reminder"  # 39 days past due, below the negotiation threshold
    hold = place_hold(
        session, account_id, "hardship", "Lost job", "ops.bo", date(2026, 2, 10), midnight(date(2026, 2, 10))
    )
    run_days(session, runtime, date(2026, 2, 10), date(2026, 2, 19))
    assert account.stage == "forbearance"
    lifted = date(2026, 2, 20)
    release_hold(session, hold.id, "Back at work", "ops.bo", lifted, midnight(lifted))  # type: ignore[arg-type]
    run_days(session, runtime, lifted, date(2026, 3, 20))
    session.refresh(account)
    assert (account.stage, account.stage_entered_on, account.anchor_on) == ("reminder", lifted, lifted)
    after = [(m.step, m.created_at.date()) for m in cadence(session, account_id) if m.created_at.date() >= lifted]  # type: ignore[union-attr]
    assert [step for step, _ in after] == REMINDER_STEPS[1:]  # from day 0 of the day it came back, each once
    assert dict(after)["early_sms"] == lifted + timedelta(days=2)


def test_a_partial_payment_below_a_stage_threshold_restarts_that_stages_cadence_from_the_payment(
    session: Session, runtime: Runtime
) -> None:
    runtime = with_negotiation_threshold(runtime)
    account = add_account(session, "partial", due_date=date(2026, 1, 1))  # 1,075.00 owed
    account_id: int = account.id  # type: ignore[assignment]
    run_day(session, runtime, date(2026, 2, 5))
    assert account.stage == "negotiation"
    paid_on = date(2026, 2, 6)
    payment = PaymentIn("partial-1", account_id, 70_000, "USD", paid_on, "test")
    record_payments(session, runtime.config, [payment], "import:payments.csv", midnight(paid_on))
    session.refresh(account)
    assert (account.stage, account.stage_entered_on, account.anchor_on) == ("reminder", paid_on, paid_on)
    assert [m.status for m in cadence(session, account_id)] == ["cancelled"]  # the offer email, now wrong
    kinds = list(session.exec(select(AuditEvent.kind).where(AuditEvent.account_id == account_id)))
    assert kinds[-4:] == ["payment.received", "stage.changed", "cadence.reanchored", "message.cancelled"]

    run_days(session, runtime, date(2026, 2, 7), date(2026, 2, 12))
    small = PaymentIn("partial-2", account_id, 1_000, "USD", date(2026, 2, 12), "test")
    record_payments(session, runtime.config, [small], "import:payments.csv", midnight(date(2026, 2, 12)))
    session.refresh(account)
    assert account.anchor_on == paid_on  # the stage did not change: the cadence carries on
    run_days(session, runtime, date(2026, 2, 13), date(2026, 3, 12))

    sent = live(cadence(session, account_id))
    assert [step for step, _ in sent] == REMINDER_STEPS[1:]  # every step from day 0, each once
    assert dict(sent)["due_email"] == paid_on + timedelta(days=1)  # day 0 is the payment day; caught up next cycle
    assert dict(sent)["early_sms"] == paid_on + timedelta(days=2)
    assert dict(sent)["late_email"] == paid_on + timedelta(days=26)
    assert all(f":{paid_on.isoformat()}:" in m.idempotency_key for m in cadence(session, account_id)[1:])
    session.refresh(account)
    assert account.stage == "reminder"


def test_an_account_paid_partly_without_leaving_its_stage_is_not_re_anchored(
    session: Session, runtime: Runtime
) -> None:
    account = add_account(session, "same-stage", due_date=date(2026, 3, 1))
    run_day(session, runtime, date(2026, 3, 5))
    paid = PaymentIn("p", account.id, 5_000, "USD", date(2026, 3, 5), "test")  # type: ignore[arg-type]
    record_payments(session, runtime.config, [paid], "test", midnight(date(2026, 3, 5)))
    session.refresh(account)
    assert (account.stage, account.stage_entered_on, account.anchor_on) == ("reminder", date(2026, 3, 5), None)
