"""Negotiation and plan monitoring end to end, on SQLite and PostgreSQL: offers and their approval
(maker-checker), acceptance, plans and promises kept or broken, one re-negotiation, then legal review."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from overdue.domain.affordability import Statement
from overdue.domain.offers import Request
from overdue.domain.validation import is_business_day, public_holidays
from overdue.runtime import Runtime
from overdue.services.affordability import record_statement
from overdue.services.decisions import DecisionError, decide_task
from overdue.services.imports import ImportRejected, import_accounts, import_affordability
from overdue.services.inbound import Inbound, receive
from overdue.services.offers import (
    Acceptance,
    OfferError,
    accept_offer,
    accept_offers,
    accept_self_service,
    make_offer,
)
from overdue.services.payments import PaymentIn, record_payments
from overdue.services.plans import make_promise
from overdue.services.reporting import plan_outcomes
from overdue.services.tasks import approvers
from overdue.store.db import session_scope
from overdue.store.tables import (
    Account,
    AffordabilityStatement,
    AuditEvent,
    Hold,
    HumanTask,
    Installment,
    Offer,
    OutreachMessage,
    PaymentPlan,
)
from tests.support import NOW, add_account, make_runtime, midnight, run_day

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def id_of(row: Account | Offer | HumanTask | PaymentPlan) -> int:
    assert row.id is not None
    return row.id


def audit_kinds(session: Session, account_id: int) -> list[str]:
    query = select(AuditEvent.kind).where(AuditEvent.account_id == account_id).order_by(col(AuditEvent.id))
    return list(session.exec(query))


def open_offer(session: Session, account_id: int) -> Offer | None:
    return session.exec(select(Offer).where(Offer.account_id == account_id, Offer.status == "open")).first()


def installments(session: Session, plan: PaymentPlan) -> list[Installment]:
    return list(
        session.exec(select(Installment).where(Installment.plan_id == id_of(plan)).order_by(col(Installment.seq)))
    )


def miss_first_installment(session: Session, runtime: Runtime, plan: PaymentPlan) -> date:
    """Run the cycle every day from the plan's start until it breaks; returns the day it broke."""
    first_due = installments(session, plan)[0].due_date
    day = plan.created_on
    while plan.status == "active":
        day += timedelta(days=1)
        run_day(session, runtime, day)
        session.refresh(plan)
        assert day <= first_due + timedelta(days=plan.grace_days + 1), "the plan was not broken after grace"
    assert plan.status == "broken"
    assert day == first_due + timedelta(days=plan.grace_days + 1)
    return day


SUPERVISOR = ("supervisor",)  # the role configs/tasks.yaml gives offer approvals


def test_missed_installment_breaks_the_plan_one_renegotiation_then_legal_review(
    session: Session, runtime: Runtime
) -> None:
    account = add_account(session, "renegotiate", due_date=date(2026, 1, 1), principal_minor=120_000)
    account_id = id_of(account)
    closed = public_holidays("US")

    # 31 days past due: the cycle makes an installment offer within bounds, due dates on business days.
    run_day(session, runtime, date(2026, 2, 1))
    offer = open_offer(session, account_id)
    assert offer is not None
    assert (offer.kind, offer.approvals_needed, offer.interest, offer.fees) == ("installment", 0, "accrues", "frozen")
    session.refresh(account)  # the cycle accrued interest before it made the offer
    assert sum(d["amount_minor"] for d in offer.schedule) == offer.total_minor == account.balance_minor
    assert all(is_business_day(date.fromisoformat(d["due_date"]), closed) for d in offer.schedule)

    # Accepted by SMS; the plan's installments are the schedule the customer was shown, reminded before each.
    plan = accept_offer(
        session, runtime.config, id_of(offer), "sms", "customer:sms", date(2026, 2, 2), midnight(date(2026, 2, 2))
    )
    assert [(i.due_date.isoformat(), i.amount_minor) for i in installments(session, plan)] == [
        (d["due_date"], d["amount_minor"]) for d in offer.schedule
    ]
    broke_on = miss_first_installment(session, runtime, plan)
    first_due = installments(session, plan)[0].due_date
    reminder = session.exec(
        select(OutreachMessage).where(
            OutreachMessage.account_id == account_id, OutreachMessage.step == "installment_due_sms"
        )
    ).first()
    assert reminder is not None
    assert reminder.send_at is not None
    assert reminder.send_at.date() < first_due  # a reminder before the due date
    session.refresh(account)
    assert (account.broken_plans, account.stage) == (1, "negotiation")

    # The one re-negotiation: a fresh offer the same day, and no legal review yet.
    second = open_offer(session, account_id)
    assert second is not None
    assert second.id != offer.id
    assert session.exec(select(HumanTask).where(HumanTask.account_id == account_id)).first() is None

    accepted_on = broke_on + timedelta(days=1)
    replan = accept_offer(
        session,
        runtime.config,
        id_of(second),
        "phone",
        "agent.li",
        accepted_on,
        midnight(accepted_on),
        "rec-2026-0042",
    )
    miss_first_installment(session, runtime, replan)
    session.refresh(account)
    assert account.broken_plans == 2

    # Out of re-negotiations: no automatic offer, and legal review is proposed to a person the same day.
    assert open_offer(session, account_id) is None
    task = session.exec(select(HumanTask).where(HumanTask.account_id == account_id)).one()
    assert (task.kind, task.status, task.payload["rule"]) == ("legal_escalation", "open", "renegotiation_exhausted")
    assert account.stage != "legal"  # nothing escalates without a person
    # An agent may still put a plan to the customer, but it needs an approver now.
    manual = make_offer(
        session, runtime.config, account_id, Request(), "agent.li", midnight(accepted_on + timedelta(days=20))
    )
    assert manual.status == "pending_approval"
    assert any("re-negotiation" in reason for reason in manual.outside_bounds)

    kinds = audit_kinds(session, account_id)
    assert kinds.count("plan.broken") == 2
    assert kinds.count("offer.accepted") == 2
    assert plan_outcomes(session) == {"plans_kept": 0, "plans_broken": 2, "promises_kept": 0, "promises_broken": 0}


def test_settlement_needs_two_different_approvers_above_the_second_threshold(
    session: Session, runtime: Runtime
) -> None:
    account = add_account(
        session, "settle", due_date=date(2026, 1, 1), principal_minor=200_000, interest_minor=0, fees_minor=0
    )
    now = midnight(date(2026, 2, 10))
    offer = make_offer(
        session, runtime.config, id_of(account), Request("settlement", discount_pct=Decimal(45)), "agent.li", now
    )
    assert (offer.status, offer.approvals_needed, offer.discount_minor, offer.total_minor) == (
        "pending_approval",
        2,
        90_000,
        110_000,
    )
    task = session.exec(select(HumanTask).where(HumanTask.kind == "offer_approval")).one()
    with pytest.raises(OfferError, match="pending_approval"):
        accept_offer(session, runtime.config, id_of(offer), "self_service", "customer:web", now.date(), now)

    with pytest.raises(DecisionError, match="another person must decide"):
        decide_task(session, id_of(task), task.version, "approve", "fine", "agent.li", now, SUPERVISOR)
    first = decide_task(
        session, id_of(task), task.version, "approve", "hardship evidence seen", "lead.wu", now, SUPERVISOR
    )
    assert first.status == "open"
    assert approvers(session, id_of(task)) == ["lead.wu"]
    session.refresh(offer)
    assert offer.status == "pending_approval"
    with pytest.raises(DecisionError, match="a second, different person"):
        decide_task(session, id_of(task), first.version, "approve", "again", "lead.wu", now, SUPERVISOR)
    with pytest.raises(DecisionError, match="changed while you were looking"):
        decide_task(session, id_of(task), 0, "approve", "stale screen", "head.zhao", now, SUPERVISOR)
    final = decide_task(session, id_of(task), first.version, "approve", "agreed", "head.zhao", now, SUPERVISOR)
    assert (final.status, final.decided_by) == ("approved", "head.zhao")
    session.refresh(offer)
    assert (offer.status, offer.approved_by) == ("open", "lead.wu, head.zhao")

    # Self-service acceptance; the lump sum paid settles the rest and closes the account there and then.
    other = add_account(session, "someone-else", due_date=date(2026, 1, 1))
    with pytest.raises(OfferError, match="not one of this account's offers"):
        accept_self_service(session, runtime.config, id_of(other), id_of(offer), now.date(), now)
    plan = accept_self_service(session, runtime.config, id_of(account), id_of(offer), now.date(), now)
    assert (plan.kind, plan.on_kept, plan.interest) == ("settlement", "settle", "waived")
    record_payments(
        session,
        runtime.config,
        [PaymentIn("p-settle", id_of(account), 110_000, "USD", date(2026, 2, 12), "test")],
        "test",
        now,
    )
    session.refresh(account)
    session.refresh(plan)
    assert (plan.status, account.stage, account.balance_minor) == ("kept", "closed", 0)
    run_day(session, runtime, date(2026, 2, 13))  # the next cycle finds nothing left to do
    session.refresh(account)
    assert (account.stage, account.balance_minor) == ("closed", 0)
    settled = session.exec(select(AuditEvent).where(AuditEvent.kind == "account.settled")).one()
    assert settled.data["written_off"]["principal"] == 90_000
    for kind in (
        "offer.made",
        "task.created",
        "task.approval_recorded",
        "offer.approved",
        "offer.accepted",
        "plan.kept",
    ):
        assert kind in audit_kinds(session, id_of(account))


def test_offers_accepted_together_are_each_accepted_as_if_alone(session: Session, runtime: Runtime) -> None:
    """accept_offers reads a batch's offers and accounts at once and accepts each in turn: the account's other
    offer is withdrawn, and each account moves to its plan with the same audit trail as one acceptance."""
    now = midnight(date(2026, 2, 10))
    first, other = (add_account(session, ref, due_date=date(2026, 1, 1)) for ref in ("two-offers", "one-offer"))
    offers = [make_offer(session, runtime.config, id_of(first), Request(months=m), "agent.li", now) for m in (3, 6)]
    third = make_offer(session, runtime.config, id_of(other), Request(months=4), "agent.li", now)

    plans = accept_offers(
        session,
        runtime.config,
        [Acceptance(id_of(offers[0]), "sms"), Acceptance(id_of(third), "sms")],
        "x",
        now.date(),
        now,
    )
    assert [(plan.account_id, len(installments(session, plan))) for plan in plans] == [
        (id_of(first), 3),
        (id_of(other), 4),
    ]
    session.refresh(offers[1])
    assert offers[1].status == "withdrawn"
    for account in (first, other):
        session.refresh(account)
        assert account.stage == "plan"
        assert audit_kinds(session, id_of(account))[-3:] == ["offer.accepted", "plan.created", "stage.changed"]


def test_a_batch_stops_at_an_offer_withdrawn_by_an_earlier_acceptance(session: Session, runtime: Runtime) -> None:
    """What the batch read first is read again once an acceptance withdraws it."""
    now = midnight(date(2026, 2, 10))
    account = add_account(session, "both-offers", due_date=date(2026, 1, 1))
    offers = [make_offer(session, runtime.config, id_of(account), Request(months=m), "agent.li", now) for m in (3, 6)]
    with pytest.raises(OfferError, match=f"offer {id_of(offers[1])} is withdrawn"):
        accept_offers(session, runtime.config, [Acceptance(id_of(o), "sms") for o in offers], "x", now.date(), now)


def test_one_approver_may_reject_an_offer_outside_the_bounds(session: Session, runtime: Runtime) -> None:
    account = add_account(session, "long-term", due_date=date(2026, 1, 1))
    now = midnight(date(2026, 2, 10))
    offer = make_offer(session, runtime.config, id_of(account), Request(months=18), "agent.li", now)
    assert (offer.status, offer.approvals_needed, offer.outside_bounds) == (
        "pending_approval",
        1,
        ["18 months is outside 3-12"],
    )
    task = session.exec(select(HumanTask).where(HumanTask.kind == "offer_approval")).one()
    decide_task(
        session, id_of(task), task.version, "reject", "twelve months is enough here", "lead.wu", now, SUPERVISOR
    )
    session.refresh(offer)
    assert offer.status == "rejected"


def test_an_offer_that_expires_waiting_for_approval_takes_its_task_with_it(session: Session, runtime: Runtime) -> None:
    account = add_account(session, "lapsed", due_date=date(2026, 1, 1))
    offer = make_offer(
        session, runtime.config, id_of(account), Request(months=18), "agent.li", midnight(date(2026, 2, 10))
    )
    run_day(session, runtime, offer.expires_on + timedelta(days=1))
    task = session.exec(select(HumanTask).where(HumanTask.kind == "offer_approval")).one()
    session.refresh(offer)
    assert (offer.status, task.status, task.reason) == ("expired", "withdrawn", "the offer expired")


def test_kept_plan_with_interest_left_cures_the_account(session: Session, runtime: Runtime) -> None:
    account = add_account(
        session, "cure", due_date=date(2026, 1, 1), principal_minor=30_000, interest_minor=0, fees_minor=0
    )
    now = midnight(date(2026, 2, 10))
    offer = make_offer(session, runtime.config, id_of(account), Request(months=3), "agent.li", now)
    plan = accept_offer(session, runtime.config, id_of(offer), "in_person", "agent.li", now.date(), now)
    account.interest_minor += 450  # interest accrues under an installment plan (the offer says so)
    session.add(account)
    for item in installments(session, plan):
        record_payments(
            session,
            runtime.config,
            [PaymentIn(f"p-{item.seq}", id_of(account), item.amount_minor, "USD", item.due_date, "test")],
            "test",
            midnight(item.due_date),
        )
    last_due = installments(session, plan)[-1].due_date
    session.refresh(plan)
    assert (plan.status, plan.ended_on) == ("kept", last_due)  # kept by the last payment, not at the next cycle
    run_day(session, runtime, last_due + timedelta(days=1))
    session.refresh(account)
    session.refresh(plan)
    assert plan.status == "kept"
    assert account.stage in ("current", "reminder")
    assert account.due_date == last_due + timedelta(days=30)  # the rest falls due cure_due_after_days after
    assert account.balance_minor > 0
    assert "account.cured" in audit_kinds(session, id_of(account))


def test_promises_are_reminded_and_judged_like_plans_without_using_up_a_renegotiation(
    session: Session, runtime: Runtime
) -> None:
    kept = add_account(session, "promise-kept", due_date=date(2026, 1, 1))
    broken = add_account(session, "promise-broken", due_date=date(2026, 1, 1))
    now = midnight(date(2026, 2, 2))
    for account in (kept, broken):
        make_promise(session, runtime.config, id_of(account), 20_000, date(2026, 2, 10), "agent", "agent.li", now)
    with pytest.raises(OfferError, match="already has an active promise"):
        make_promise(session, runtime.config, id_of(kept), 100, date(2026, 2, 11), "agent", "agent.li", now)
    with pytest.raises(OfferError, match="30 days ahead"):
        make_promise(
            session,
            runtime.config,
            id_of(add_account(session, "far", due_date=date(2026, 1, 1))),
            100,
            date(2026, 4, 1),
            "agent",
            "agent.li",
            now,
        )
    record_payments(
        session,
        runtime.config,
        [PaymentIn("p-promise", id_of(kept), 20_000, "USD", date(2026, 2, 10), "test")],
        "test",
        now,
    )
    for offset in range(1, 14):
        run_day(session, runtime, date(2026, 2, 2) + timedelta(days=offset))
    reminded = session.exec(
        select(OutreachMessage).where(
            OutreachMessage.account_id == id_of(broken), OutreachMessage.step == "installment_due_sms"
        )
    ).first()
    assert reminded is not None
    session.refresh(broken)
    assert broken.broken_plans == 0  # a broken promise is not a broken plan
    assert plan_outcomes(session) == {"plans_kept": 0, "plans_broken": 0, "promises_kept": 1, "promises_broken": 1}


def test_affordability_sizes_the_offer_and_no_capacity_flags_hardship(session: Session, runtime: Runtime) -> None:
    account = add_account(
        session, "afford", due_date=date(2026, 1, 1), principal_minor=120_000, interest_minor=0, fees_minor=0
    )
    now = midnight(date(2026, 2, 1))
    statement = record_statement(
        session, runtime.config, id_of(account), Statement(350_000, 300_000, 0), "agent", "agent.li", now
    )
    assert (statement.capacity_minor, statement.hardship_hold_id) == (40_000, None)
    run_day(session, runtime, date(2026, 2, 1))
    offer = open_offer(session, id_of(account))
    assert offer is not None
    session.refresh(account)  # $1,200 and the interest accrued while delinquent, at $400 a month
    assert account.balance_minor > 120_000
    assert offer.installments == -(-account.balance_minor // 40_000)

    poor = add_account(session, "no-capacity", due_date=date(2026, 1, 1))
    flagged = record_statement(
        session, runtime.config, id_of(poor), Statement(150_000, 140_000, 1), "agent", "agent.li", now
    )
    hold = session.get(Hold, flagged.hardship_hold_id)
    assert hold is not None
    assert (hold.kind, flagged.capacity_minor) == ("hardship", 0)
    assert "no capacity to pay" in hold.reason
    assert {"affordability.recorded", "hold.placed"} <= set(audit_kinds(session, id_of(poor)))
    # With hardship flagged, interest-suspended installments are within the bounds.
    suspended = make_offer(session, runtime.config, id_of(poor), Request("interest_suspended"), "agent.li", now)
    assert (suspended.status, suspended.interest, suspended.fees) == ("open", "frozen", "frozen")


def test_an_oral_agreement_needs_its_recording(session: Session, runtime: Runtime) -> None:
    account = add_account(session, "oral", due_date=date(2026, 1, 1))
    now = midnight(date(2026, 2, 10))
    offer = make_offer(session, runtime.config, id_of(account), Request(), "agent.li", now)
    with pytest.raises(OfferError, match="recording"):
        accept_offer(session, runtime.config, id_of(offer), "phone", "agent.li", now.date(), now)
    accept_offer(session, runtime.config, id_of(offer), "phone", "agent.li", now.date(), now, "rec-77")
    event = session.exec(select(AuditEvent).where(AuditEvent.kind == "offer.accepted")).one()
    assert (event.actor, event.data["via"], event.data["recording_ref"]) == ("agent.li", "phone", "rec-77")
    assert account.stage == "plan"


def sms(body: str, sid: str) -> Inbound:
    return Inbound(channel="sms", provider="twilio", provider_id=sid, from_address="+12125550123", body=body)


def test_customers_accept_promise_and_state_their_means_by_text(session: Session, runtime: Runtime) -> None:
    account = add_account(session, "texts", due_date=date(2026, 1, 1), principal_minor=120_000)
    now = midnight(date(2026, 2, 10)) + timedelta(hours=15)
    # Income and expenses by text: a statement with its capacity, and a person asked to follow up.
    assert (
        receive(session, runtime, sms("income 2500 expenses 1700 dependants 1", "SM1"), now).intent == "affordability"
    )
    statement = session.exec(select(AffordabilityStatement)).one()
    assert (statement.source, statement.capacity_minor) == ("sms", 32_000)  # (2500-1700-400) x 80%
    assert session.exec(select(HumanTask).where(HumanTask.kind == "inbound_message")).one().payload["intent"] == (
        "affordability"
    )
    # YES accepts the one open offer.
    offer = make_offer(session, runtime.config, id_of(account), Request(), "agent.li", now)
    receive(session, runtime, sms("YES", "SM2"), now)
    session.refresh(offer)
    assert (offer.status, offer.accepted_via, offer.accepted_by) == ("accepted", "sms", "customer:sms")


def test_a_dated_promise_by_text_is_tracked_as_a_promise_to_pay(session: Session, runtime: Runtime) -> None:
    account = add_account(session, "promise-text", due_date=date(2026, 1, 1))
    receive(session, runtime, sms("I will pay on the 20th", "SM3"), midnight(date(2026, 3, 2)) + timedelta(hours=15))
    promise = session.exec(select(PaymentPlan).where(PaymentPlan.account_id == id_of(account))).one()
    assert (promise.kind, promise.total_minor, promise.created_by) == ("promise", account.balance_minor, "customer:sms")
    assert installments(session, promise)[0].due_date == date(2026, 3, 20)
    assert account.stage == "plan"


def test_affordability_statements_import_once_and_flag_hardship(database_url: str, tmp_path: Path) -> None:
    runtime = make_runtime(database_url)
    with session_scope(database_url) as session:
        import_accounts(session, runtime.config, runtime.vault, EXAMPLES / "accounts.csv", NOW)
    for expected in ((4, 0), (0, 4)):  # a second run changes nothing
        with session_scope(database_url) as session:
            result = import_affordability(session, runtime.config, EXAMPLES / "affordability.csv", NOW)
        assert (result.created, result.already_present) == expected
    with session_scope(database_url) as session:
        statements = {s.statement_ref: s for s in session.exec(select(AffordabilityStatement))}
        assert statements["AFF-0001"].capacity_minor == 56_000  # (3200-2100-400) x 80%
        assert statements["AFF-0002"].hardship_hold_id is not None  # nothing left: hardship, by itself
        hold = session.get(Hold, statements["AFF-0004"].hardship_hold_id)
        assert hold is not None
        assert (hold.kind, hold.reason, hold.created_by) == (
            "hardship",
            "住院治疗，收入中断",
            "import:affordability.csv",
        )
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "statement_ref,account_ref,currency,income,expenses,dependants\n"
        "X-1,A-NOPE,USD,100.00,50.00,0\nX-1,A-US-1001,CNY,1.001,0,-1\n",
        encoding="utf-8",
    )
    with session_scope(database_url) as session, pytest.raises(ImportRejected) as rejected:
        import_affordability(session, runtime.config, bad, NOW)
    assert {(p.line, p.field) for p in rejected.value.problems} >= {
        (2, "account_ref"),
        (3, "income"),
        (3, "dependants"),
    }
