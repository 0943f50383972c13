"""The four stages end to end through the cycle services, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from overdue.config.models import ROLES
from overdue.runtime import Runtime
from overdue.services import dispatch
from overdue.services.decisions import DecisionError, decide_task
from overdue.services.holds import HoldError, place_hold, release_hold
from overdue.services.offers import OfferError, accept_offer
from overdue.services.payments import PaymentIn, record_payments
from overdue.store.db import session_scope
from overdue.store.tables import (
    Account,
    AuditEvent,
    HumanTask,
    Installment,
    LegalCase,
    Offer,
    OutreachMessage,
    PaymentPlan,
)
from tests.support import add_account, add_escalation_task, midnight, run_day, with_champion


def messages(session: Session, account_id: int) -> list[OutreachMessage]:
    """The cadence's messages (the US validation notice that goes with the first has tests of its own)."""
    query = select(OutreachMessage).where(
        OutreachMessage.account_id == account_id, OutreachMessage.purpose != "validation"
    )
    return list(session.exec(query.order_by(col(OutreachMessage.id))))


def audit_kinds(session: Session, account_id: int) -> list[str]:
    query = select(AuditEvent.kind).where(AuditEvent.account_id == account_id).order_by(col(AuditEvent.id))
    return list(session.exec(query))


def test_pre_due_reminder_is_queued_in_the_customers_window_and_only_once(session: Session, runtime: Runtime) -> None:
    account = add_account(
        session,
        "shanghai",
        due_date=date(2026, 3, 10),
        jurisdiction="CN",
        currency="CNY",
        locale="zh-CN",
        time_zone="Asia/Shanghai",
    )
    run_day(session, runtime, date(2026, 3, 7))
    run_day(session, runtime, date(2026, 3, 7))  # a rerun of the same day queues nothing new
    queued = messages(session, account.id)  # type: ignore[arg-type]
    assert [m.step for m in queued] == ["pre_due_sms"]
    message = queued[0]
    assert message.locale == "zh-CN"
    assert "回复TD退订" in message.body
    assert message.send_at == datetime(2026, 3, 7, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    assert account.stage == "reminder"
    assert audit_kinds(session, account.id) == ["stage.changed", "message.queued"]  # type: ignore[arg-type]


def test_dispatch_sends_inside_the_window_and_defers_outside(session: Session, runtime: Runtime) -> None:
    account = add_account(session, "ny", due_date=date(2026, 2, 13))
    run_day(session, runtime, date(2026, 2, 10))
    [message] = messages(session, account.id)  # type: ignore[arg-type]
    assert message.send_at == datetime(2026, 2, 10, 15, 0, tzinfo=UTC)  # 10:00 EST

    night = datetime(2026, 2, 11, 3, 0, tzinfo=UTC)  # 22:00 in New York
    counts = dispatch.dispatch_due(session, runtime.config, runtime.channel, night)
    assert counts.deferred == 1
    session.refresh(message)
    assert message.status == "queued"
    assert message.send_at == datetime(2026, 2, 11, 13, 0, tzinfo=UTC)  # next 08:00 local

    morning = datetime(2026, 2, 11, 14, 0, tzinfo=UTC)
    assert dispatch.dispatch_due(session, runtime.config, runtime.channel, morning).sent == 1
    session.refresh(message)
    assert message.status == "sent"
    assert message.provider == "dry-run"
    assert message.provider_id
    assert dispatch.dispatch_due(session, runtime.config, runtime.channel, morning).sent == 0  # never twice


def test_payment_in_full_closes_the_account_and_cancels_queued_reminders(session: Session, runtime: Runtime) -> None:
    account = add_account(session, "payer", due_date=date(2026, 3, 10))
    run_day(session, runtime, date(2026, 3, 12))
    assert [m.status for m in messages(session, account.id)] == ["queued"]  # type: ignore[arg-type]

    payment = PaymentIn("pay-1", account.id, account.balance_minor, "USD", date(2026, 3, 12), "test")  # type: ignore[arg-type]
    result = record_payments(session, runtime.config, [payment, payment], "test", midnight(date(2026, 3, 12)))
    assert (result.recorded, result.duplicates, result.closed_accounts) == (1, 1, 1)
    session.refresh(account)
    assert account.stage == "closed"
    assert account.balance_minor == 0
    assert [m.status for m in messages(session, account.id)] == ["cancelled"]  # type: ignore[arg-type]
    assert "payment.received" in audit_kinds(session, account.id)  # type: ignore[arg-type]


def test_partial_payment_is_allocated_by_the_jurisdictions_order(session: Session, runtime: Runtime) -> None:
    us = add_account(
        session, "us", due_date=date(2026, 3, 1), principal_minor=10_000, interest_minor=1_000, fees_minor=500
    )
    cn = add_account(
        session,
        "cn",
        due_date=date(2026, 3, 1),
        principal_minor=10_000,
        interest_minor=1_000,
        fees_minor=500,
        jurisdiction="CN",
        currency="CNY",
        locale="zh-CN",
        time_zone="Asia/Shanghai",
    )
    now = midnight(date(2026, 3, 20))
    record_payments(
        session,
        runtime.config,
        [
            PaymentIn("p-us", us.id, 1_200, "USD", now.date(), "test"),  # type: ignore[arg-type]
            PaymentIn("p-cn", cn.id, 1_200, "CNY", now.date(), "test"),  # type: ignore[arg-type]
        ],
        "test",
        now,
    )
    session.refresh(us)
    session.refresh(cn)
    assert (us.fees_minor, us.interest_minor, us.principal_minor) == (0, 300, 10_000)  # fees first (US policy)
    assert (cn.fees_minor, cn.interest_minor, cn.principal_minor) == (300, 0, 10_000)  # interest first (CN policy)


def test_negotiation_offer_plan_broken_then_escalation_needs_a_person(session: Session, runtime: Runtime) -> None:
    account = add_account(session, "journey", due_date=date(2026, 1, 1), principal_minor=120_000)
    account_id: int = account.id  # type: ignore[assignment]

    # Negotiation: at 31 days past due an offer within bounds is made and sent.
    run_day(session, runtime, date(2026, 2, 1))
    session.refresh(account)
    assert account.stage == "negotiation"
    offer = session.exec(select(Offer).where(Offer.account_id == account_id)).one()
    assert offer.installments == 6
    assert offer.total_minor == account.balance_minor
    assert any(m.template == "offer" for m in messages(session, account_id))

    # Acceptance creates a plan whose installments sum exactly to the total.
    now = midnight(date(2026, 2, 2))
    plan = accept_offer(session, runtime.config, offer.id, "phone", "agent.li", date(2026, 2, 2), now, "rec-1")  # type: ignore[arg-type]
    installments = list(session.exec(select(Installment).where(Installment.plan_id == plan.id)))
    assert sum(i.amount_minor for i in installments) == offer.total_minor
    with pytest.raises(OfferError, match="accepted"):
        accept_offer(session, runtime.config, offer.id, "phone", "agent.li", date(2026, 2, 2), now, "rec-1")  # type: ignore[arg-type]
    session.refresh(account)
    assert account.stage == "plan"
    offer_email = next(m for m in messages(session, account_id) if m.template == "offer")
    session.refresh(offer_email)
    assert (offer_email.status, offer_email.error) == ("cancelled", "a payment plan was accepted")  # not sent later

    # Plan monitoring: the first installment is missed; after the grace days the plan is broken.
    first_due = min(i.due_date for i in installments)
    run_day(session, runtime, first_due + timedelta(days=5))
    session.refresh(plan)
    assert plan.status == "active"
    run_day(session, runtime, first_due + timedelta(days=6))
    session.refresh(plan)
    session.refresh(account)
    assert plan.status == "broken"
    assert account.broken_plans == 1
    assert account.stage == "negotiation"

    # Legal escalation: the criteria open an approval task; the account does not escalate by itself.
    day = first_due + timedelta(days=7)
    while not session.exec(select(HumanTask).where(HumanTask.account_id == account_id)).first():
        day += timedelta(days=1)
        run_day(session, runtime, day)
        assert day < date(2026, 6, 1), "no escalation task was proposed"
    task = session.exec(select(HumanTask).where(HumanTask.account_id == account_id)).one()
    assert task.payload["rule"] == "long_delinquent"  # one broken plan leaves a re-negotiation, not legal
    run_day(session, runtime, day + timedelta(days=1))
    session.refresh(account)
    assert account.stage == "negotiation"
    assert len(list(session.exec(select(HumanTask).where(HumanTask.account_id == account_id)))) == 1

    # A person approves; the case opens at once and a second decision is refused.
    assert task.id is not None
    decided = decide_task(
        session, task.id, task.version, "approve", "Plan broken, criteria met", "legal.chen", now, ROLES
    )
    assert decided.status == "approved"
    session.refresh(account)
    assert account.stage == "legal"
    assert session.exec(select(LegalCase).where(LegalCase.account_id == account_id)).one().approved_by == "legal.chen"
    assert all(m.status != "queued" for m in messages(session, account_id))
    assert all(o.status != "open" for o in session.exec(select(Offer).where(Offer.account_id == account_id)))
    with pytest.raises(DecisionError, match=r"already approved by legal\.chen"):
        decide_task(session, task.id, task.version, "reject", "no", "ops.bo", now, ROLES)  # type: ignore[arg-type]

    kinds = audit_kinds(session, account_id)
    for kind in (
        "offer.made",
        "offer.accepted",
        "plan.created",
        "plan.broken",
        "task.created",
        "task.decided",
        "legal_case.opened",
    ):
        assert kind in kinds


def test_decisions_need_a_reason_and_another_person(session: Session, runtime: Runtime) -> None:
    account = add_account(session, "decide", due_date=date(2026, 1, 1))
    now = midnight(date(2026, 4, 1))
    task = add_escalation_task(session, account, created_at=now, requested_by="ops.alice")
    with pytest.raises(DecisionError, match="reason is required"):
        decide_task(session, task.id, 0, "approve", "  ", "legal.chen", now, ROLES)  # type: ignore[arg-type]
    with pytest.raises(DecisionError, match="another person must decide"):
        decide_task(session, task.id, 0, "approve", "ok", "ops.alice", now, ROLES)  # type: ignore[arg-type]
    with pytest.raises(DecisionError, match="changed while you were looking"):
        decide_task(session, task.id, 7, "approve", "ok", "legal.chen", now, ROLES)  # type: ignore[arg-type]
    session.refresh(task)
    assert task.status == "open"
    rejected = decide_task(session, task.id, 0, "reject", "Customer engaging", "legal.chen", now, ROLES)  # type: ignore[arg-type]
    assert rejected.status == "rejected"
    assert rejected.version == 1
    session.refresh(account)
    assert account.stage != "legal"


def test_two_people_deciding_at_once_end_with_exactly_one_decision(runtime: Runtime) -> None:
    now = midnight(date(2026, 4, 1))
    with session_scope(runtime.database_url) as setup:
        account = add_account(setup, "race", due_date=date(2026, 1, 1))
        task = add_escalation_task(setup, account, created_at=now)
        task_id: int = task.id  # type: ignore[assignment]
    outcomes = []
    for user in ("legal.chen", "legal.wu"):  # both saw version 0 on their screens
        try:
            with session_scope(runtime.database_url) as session:
                decide_task(session, task_id, 0, "approve", "criteria met", user, now, ROLES)
            outcomes.append("decided")
        except DecisionError as exc:
            outcomes.append(str(exc))
    assert outcomes[0] == "decided"
    assert "already approved by legal.chen" in outcomes[1]
    with session_scope(runtime.database_url) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(LegalCase)) == 1
        kept = session.scalar(sa.select(sa.func.count()).select_from(PaymentPlan))
        assert kept == 0
        assert session.get(Account, account.id).stage == "legal"  # type: ignore[union-attr]


def test_opted_out_channel_is_skipped_and_recorded(session: Session, runtime: Runtime) -> None:
    account = add_account(session, "nosms", due_date=date(2026, 3, 10), channels=("email", "letter"))
    run_day(session, runtime, date(2026, 3, 7))
    assert messages(session, account.id) == []  # type: ignore[arg-type]
    assert "message.skipped" in audit_kinds(session, account.id)  # type: ignore[arg-type]


def test_an_sms_that_renders_too_long_is_skipped_with_its_size_never_sent_truncated(
    session: Session, runtime: Runtime
) -> None:
    one_segment = with_champion(runtime, sms_max_segments=1)
    account = add_account(
        session,
        "wordy",
        due_date=date(2026, 3, 10),
        jurisdiction="CN",
        currency="CNY",
        locale="zh-CN",
        time_zone="Asia/Shanghai",
    )
    run_day(session, one_segment, date(2026, 3, 7))
    assert messages(session, account.id) == []  # type: ignore[arg-type]
    skipped = session.exec(
        select(AuditEvent).where(AuditEvent.account_id == account.id, AuditEvent.kind == "message.skipped")
    ).one()
    assert skipped.data == {
        "reason": "sms too long",
        "segments": 2,
        "encoding": "UCS-2",
        "max_segments": 1,
        "step": "pre_due_sms",
    }


def test_a_hold_stops_contact_at_once_and_release_resumes_it(session: Session, runtime: Runtime) -> None:
    account = add_account(session, "held", due_date=date(2026, 3, 10))
    account_id: int = account.id  # type: ignore[assignment]
    run_day(session, runtime, date(2026, 3, 7))
    now = midnight(date(2026, 3, 7))
    with pytest.raises(HoldError, match="reason is required"):
        place_hold(session, account_id, "dispute", " ", "ops.bo", now.date(), now)
    hold = place_hold(session, account_id, "dispute", "Customer disputes the fee", "ops.bo", now.date(), now)
    assert [m.status for m in messages(session, account_id)] == ["cancelled"]

    run_day(session, runtime, date(2026, 3, 10))
    assert len(messages(session, account_id)) == 1  # nothing new while held

    release_hold(session, hold.id, "Verified and answered", "ops.bo", date(2026, 3, 12), midnight(date(2026, 3, 12)))  # type: ignore[arg-type]
    run_day(session, runtime, date(2026, 3, 12))
    assert [m.step for m in messages(session, account_id)][-1] == "early_sms"
    assert {"hold.placed", "hold.released"} <= set(audit_kinds(session, account_id))


def test_an_undecided_escalation_is_withdrawn_when_the_account_moves_on(session: Session, runtime: Runtime) -> None:
    """Found in the demo: a customer accepted a plan while the approval waited, and the approval then sent a
    paying customer to legal. Accepting a plan (or paying, or a hold) now withdraws the open task."""
    account = add_account(session, "moved-on", due_date=date(2026, 1, 1))
    now = midnight(date(2026, 4, 2))
    task = add_escalation_task(session, account, created_at=now)
    stale = add_escalation_task(session, add_account(session, "stale", due_date=date(2026, 1, 1)), created_at=now)
    offer = Offer(
        account_id=account.id,  # type: ignore[arg-type]
        total_minor=account.balance_minor,
        installments=6,
        first_due_date=date(2026, 4, 9),
        created_on=now.date(),
        expires_on=date(2026, 4, 16),
    )
    session.add(offer)
    session.flush()

    accept_offer(session, runtime.config, offer.id, "sms", "sim:customer", now.date(), now)  # type: ignore[arg-type]
    session.refresh(task)
    assert (task.status, task.reason) == ("withdrawn", "a payment plan was accepted")
    with pytest.raises(DecisionError, match="already withdrawn"):
        decide_task(session, task.id, 0, "approve", "criteria met", "legal.chen", now, ROLES)  # type: ignore[arg-type]

    stale_account = session.get(Account, stale.account_id)
    assert stale_account is not None
    stale_account.stage = "plan"  # moved on by a path that did not withdraw: the approval itself refuses
    with pytest.raises(DecisionError, match="now in stage 'plan'"):
        decide_task(session, stale.id, 0, "approve", "criteria met", "legal.chen", now, ROLES)  # type: ignore[arg-type]
    assert session.scalar(sa.select(sa.func.count()).select_from(LegalCase)) == 0


def test_the_second_of_two_clicks_is_told_a_colleague_already_decided(runtime: Runtime) -> None:
    """Found by the browser test: the second click saw the task still open but the account already in legal,
    and was told 'escalation no longer applies' instead of who decided."""
    now = midnight(date(2026, 4, 1))
    with session_scope(runtime.database_url) as setup:
        task = add_escalation_task(setup, add_account(setup, "clicks", due_date=date(2026, 1, 1)), created_at=now)
        task_id: int = task.id  # type: ignore[assignment]
    with session_scope(runtime.database_url) as late:
        stale = late.get(HumanTask, task_id)  # the second click's view: still open
        assert stale is not None
        assert stale.status == "open"
        with session_scope(runtime.database_url) as first:
            decide_task(first, task_id, 0, "approve", "criteria met", "legal.chen", now, ROLES)
        with pytest.raises(DecisionError, match=r"already approved by legal\.chen"):
            decide_task(late, task_id, 0, "approve", "criteria met", "legal.wu", now, ROLES)


def test_a_time_barred_debt_is_never_proposed_for_or_approved_into_legal_action(
    session: Session, runtime: Runtime
) -> None:
    old = add_account(session, "barred", due_date=date(2023, 1, 2))
    young = add_account(session, "young", due_date=date(2025, 12, 1))
    run_day(session, runtime, date(2026, 3, 10))
    proposed = {t.account_id: t for t in session.exec(select(HumanTask).where(HumanTask.kind == "legal_escalation"))}
    assert old.id not in proposed  # over three years past due in the US: no legal action, ever
    task = proposed[young.id]  # type: ignore[index]
    assert (task.payload["time_barred_on"], task.payload["time_bar_rule"]) == ("2028-12-01", "us.time_barred")

    with pytest.raises(DecisionError, match=r"time-barred on 2028-12-01 \(us\.time_barred\)"):
        decide_task(session, task.id, 0, "approve", "late approval", "legal.chen", midnight(date(2028, 12, 1)), ROLES)  # type: ignore[arg-type]
