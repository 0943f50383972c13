"""Payments on SQLite and PostgreSQL: the CSV file re-imported, overpayments kept as credit, reversals and
chargebacks re-opening what they paid, partial payments cancelling the reminders they answer, and the
daily accrual with its caps and freezes, held to the domain's arithmetic."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from overdue.domain.accrual import accrue as expected_accrual
from overdue.domain.stages import days_past_due
from overdue.runtime import Runtime
from overdue.services import accrual
from overdue.services.dispatch import dispatch_due
from overdue.services.holds import place_hold
from overdue.services.imports import ImportRejected, import_payments
from overdue.services.payment_ledger import account_ledger
from overdue.services.payments import PaymentError, PaymentIn, record_payments
from overdue.store.tables import (
    Account,
    AuditEvent,
    Customer,
    Installment,
    InstallmentAllocation,
    LegalCase,
    OutreachMessage,
    Payment,
    PaymentPlan,
)
from tests.support import SHARD, add_account, add_escalation_task, midnight, run_day

DAY = date(2026, 3, 10)


def kinds(session: Session, account_id: int) -> list[str]:
    query = select(AuditEvent.kind).where(AuditEvent.account_id == account_id).order_by(col(AuditEvent.id))
    return list(session.exec(query))


def pay(
    session: Session, runtime: Runtime, account: Account, ref: str, amount: int, day: date = DAY, **kind: str
) -> None:
    payment = PaymentIn(ref, account.id, amount, account.currency, day, "test", **kind)  # type: ignore[arg-type]
    record_payments(session, runtime.config, [payment], "test", midnight(day))
    session.refresh(account)


def add_plan(
    session: Session,
    account: Account,
    amounts: list[int],
    first_due: date,
    interest: str = "frozen",
    fees: str = "frozen",
) -> PaymentPlan:
    """A plan as an accepted offer leaves it; `interest` and `fees`: what accrual does while it runs."""
    plan = PaymentPlan(
        account_id=account.id,  # type: ignore[arg-type]
        total_minor=sum(amounts),
        grace_days=5,
        created_on=first_due - timedelta(days=7),
        interest=interest,
        fees=fees,
    )
    session.add(plan)
    session.flush()
    for seq, amount in enumerate(amounts, 1):
        due = first_due + timedelta(days=30 * (seq - 1))
        session.add(Installment(plan_id=plan.id, seq=seq, due_date=due, amount_minor=amount))  # type: ignore[arg-type]
    account.stage, account.next_action_on = "plan", first_due - timedelta(days=7)
    session.add(account)
    session.flush()
    return plan


def installments(session: Session, plan: PaymentPlan) -> list[int]:
    query = select(Installment.paid_minor).where(Installment.plan_id == plan.id).order_by(col(Installment.seq))
    return list(session.exec(query))


# --- CSV ------------------------------------------------------------------------------------------


def test_a_payments_file_imported_twice_records_each_payment_once_and_its_chargeback_reopens(
    session: Session, runtime: Runtime, tmp_path: Path
) -> None:
    account = add_account(session, "CSV1", due_date=date(2026, 1, 20))  # 107,500 owed
    payments = tmp_path / "payments.csv"
    payments.write_text(
        "payment_ref,account_ref,amount,currency,received_on\nP-1,A-CSV1,1075.00,USD,2026-03-09\n",
        encoding="utf-8",
    )
    for _ in range(2):
        import_payments(session, runtime.config, payments, midnight(DAY))
    session.refresh(account)
    assert (account.balance_minor, account.stage) == (0, "closed")
    assert session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 1

    returns = tmp_path / "returns.csv"
    returns.write_text(
        "payment_ref,account_ref,amount,currency,received_on,kind,reverses\n"
        "CB-1,A-CSV1,1075.00,USD,2026-03-10,chargeback,P-1\n",
        encoding="utf-8",
    )
    for _ in range(2):
        result = import_payments(session, runtime.config, returns, midnight(DAY))
    assert (result.created, result.already_present) == (0, 1)
    session.refresh(account)
    assert (account.fees_minor, account.interest_minor, account.principal_minor) == (2_500, 5_000, 100_000)
    assert account.stage == "negotiation"  # 49 days past due: where the cycle would put it
    assert kinds(session, account.id)[-3:] == ["payment.reversed", "stage.changed", "account.reopened"]  # type: ignore[arg-type]
    assert session.scalar(sa.select(sa.func.sum(col(Payment.amount_minor)))) == 0  # collected, net of the chargeback


def test_a_payments_file_with_a_bad_reversal_writes_nothing(session: Session, runtime: Runtime, tmp_path: Path) -> None:
    add_account(session, "CSV2", due_date=date(2026, 1, 20))
    path = tmp_path / "bad.csv"
    path.write_text(
        "payment_ref,account_ref,amount,currency,received_on,kind,reverses\n"
        "P-2,A-CSV2,100.00,USD,2026-03-09,,\n"
        "R-2,A-CSV2,90.00,USD,2026-03-10,reversal,P-2\n"
        "R-3,A-CSV2,100.00,USD,2026-03-10,refund,P-2\n"
        "R-4,A-CSV2,100.00,USD,2026-03-10,reversal,P-2\n"
        "R-5,A-CSV2,100.00,USD,2026-03-10,chargeback,P-2\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportRejected) as rejected:
        import_payments(session, runtime.config, path, midnight(DAY))
    problems = rejected.value.problems
    assert [(p.line, p.field) for p in problems] == [(3, "amount"), (4, "kind"), (6, "reverses")]
    assert "already reversed by line 5" in problems[-1].message
    assert f"{path}:6: field 'reverses'" in str(rejected.value)
    assert session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 0


# --- credit, reversals ----------------------------------------------------------------------------


def test_an_overpayment_is_kept_as_credit_and_shown_on_the_account(session: Session, runtime: Runtime) -> None:
    account = add_account(session, "OVER", due_date=date(2026, 2, 1))
    pay(session, runtime, account, "P-over", 110_000)
    assert (account.balance_minor, account.credit_minor, account.stage) == (0, 2_500, "closed")
    ledger = account_ledger(session, runtime.config, "A-OVER", DAY)
    assert ledger is not None
    assert ledger.credit_minor == 2_500
    [line] = ledger.payments
    assert (line.to_fees_minor, line.to_interest_minor, line.to_principal_minor, line.to_credit_minor) == (
        2_500,
        5_000,
        100_000,
        2_500,
    )
    pay(session, runtime, account, "R-over", 110_000, kind="reversal", reverses="P-over")
    assert (account.balance_minor, account.credit_minor) == (107_500, 0)
    ledger = account_ledger(session, runtime.config, "A-OVER", DAY)
    assert ledger is not None
    assert [p.reversed_by for p in ledger.payments] == ["R-over", None]


def test_a_chargeback_reopens_the_installments_it_paid_and_the_kept_plan(session: Session, runtime: Runtime) -> None:
    account = add_account(session, "PLAN", due_date=date(2026, 1, 1), interest_minor=0, fees_minor=0)
    plan = add_plan(session, account, [50_000, 50_000], first_due=DAY)
    pay(session, runtime, account, "P-a", 50_000)
    pay(session, runtime, account, "P-b", 50_000)
    session.refresh(plan)
    assert (plan.status, account.stage, installments(session, plan)) == ("kept", "closed", [50_000, 50_000])

    pay(session, runtime, account, "CB-b", 50_000, day=DAY + timedelta(days=3), kind="chargeback", reverses="P-b")
    session.refresh(plan)
    assert (plan.status, plan.ended_on) == ("active", None)
    assert installments(session, plan) == [50_000, 0]
    assert (account.stage, account.principal_minor, account.next_action_on) == ("plan", 50_000, DAY + timedelta(days=3))
    assert {"plan.reopened", "payment.reversed", "account.reopened"} <= set(kinds(session, account.id))  # type: ignore[arg-type]


def test_a_batch_applies_its_payments_in_turn_as_if_each_came_alone(session: Session, runtime: Runtime) -> None:
    """record_payments reads a batch's accounts and plans at once and writes their changes at its end: two
    payments to one account in a batch, the second completing the plan, a reversal of it and a payment after
    the reversal end exactly where the same payments recorded one at a time end."""
    alone, together = (
        add_account(session, ref, due_date=date(2026, 1, 1), interest_minor=0, fees_minor=0)
        for ref in ("ALONE", "TOGETHER")
    )
    plans = [add_plan(session, account, [50_000, 50_000], first_due=DAY) for account in (alone, together)]

    def reports(account: Account) -> list[PaymentIn]:
        ref, day = account.external_ref, DAY + timedelta(days=1)
        return [
            PaymentIn(f"{ref}-1", account.id, 30_000, "USD", DAY, "test"),  # type: ignore[arg-type]
            PaymentIn(f"{ref}-2", account.id, 70_000, "USD", DAY, "test"),  # type: ignore[arg-type]
            PaymentIn(f"{ref}-R", account.id, 70_000, "USD", day, "test", "reversal", f"{ref}-2"),  # type: ignore[arg-type]
            PaymentIn(f"{ref}-3", account.id, 20_000, "USD", day, "test"),  # type: ignore[arg-type]
        ]

    for report in reports(alone):
        record_payments(session, runtime.config, [report], "test", midnight(DAY))
    record_payments(session, runtime.config, reports(together), "test", midnight(DAY))

    def outcome(account: Account, plan: PaymentPlan) -> tuple[object, ...]:
        session.refresh(account)
        session.refresh(plan)
        allocated = session.scalars(
            sa.select(col(InstallmentAllocation.amount_minor))
            .join(Payment, col(Payment.id) == col(InstallmentAllocation.payment_id))
            .where(col(Payment.account_id) == account.id)
            .order_by(col(InstallmentAllocation.id))
        ).all()
        balances = (account.principal_minor, account.credit_minor, account.stage, account.next_action_on)
        return balances, plan.status, installments(session, plan), allocated, kinds(session, account.id)  # type: ignore[arg-type]

    assert outcome(together, plans[1]) == outcome(alone, plans[0])
    assert outcome(alone, plans[0])[:3] == ((50_000, 0, "plan", DAY + timedelta(days=1)), "active", [50_000, 0])


def test_a_reversal_returns_a_closed_legal_account_to_legal(session: Session, runtime: Runtime) -> None:
    account = add_account(session, "LEGAL", due_date=date(2025, 10, 1))
    task = add_escalation_task(session, account)
    session.add(
        LegalCase(account_id=account.id, task_id=task.id, balance_minor=107_500, opened_on=DAY, approved_by="x")  # type: ignore[arg-type]
    )
    account.stage = "legal"
    pay(session, runtime, account, "P-legal", 107_500)
    assert account.stage == "closed"
    pay(session, runtime, account, "R-legal", 107_500, kind="reversal", reverses="P-legal")
    assert account.stage == "legal"


def test_a_payment_is_reversed_once(session: Session, runtime: Runtime) -> None:
    account = add_account(session, "ONCE", due_date=date(2026, 2, 1))
    pay(session, runtime, account, "P-once", 1_000)
    pay(session, runtime, account, "R-once", 1_000, kind="reversal", reverses="P-once")
    pay(session, runtime, account, "R-once", 1_000, kind="reversal", reverses="P-once")  # the same report again
    assert account.balance_minor == 107_500
    with pytest.raises(PaymentError, match="already reversed by R-once"):
        pay(session, runtime, account, "CB-once", 1_000, kind="chargeback", reverses="P-once")


def test_paying_in_full_cancels_the_queued_messages_and_withdraws_the_waiting_escalation(
    session: Session, runtime: Runtime
) -> None:
    """Within a batch that also pays an account with nothing queued and nothing waiting (the batch reads which
    accounts have either once, at its start)."""
    owing, quiet = (add_account(session, ref, due_date=date(2025, 12, 1)) for ref in ("FULL", "QUIET"))
    task = add_escalation_task(session, owing)
    for account in (owing, quiet):
        session.add(
            OutreachMessage(
                idempotency_key=f"negotiation:{account.id}:test",
                account_id=account.id,  # type: ignore[arg-type]
                customer_id=account.customer_id,
                channel="sms",
                address="+15555550100",
                template="offer",
                locale="en",
                stage="negotiation",
                step="test",
                purpose="collection",
                body="An offer",
                status="queued" if account is owing else "sent",
                send_at=midnight(DAY),
                created_at=midnight(DAY),
            )
        )
    session.flush()
    queued = session.scalars(
        sa.select(col(OutreachMessage.id)).where(col(OutreachMessage.account_id) == owing.id)
    ).all()
    payments = [
        PaymentIn(ref, account.id, account.balance_minor, account.currency, DAY, "test")  # type: ignore[arg-type]
        for ref, account in (("P-quiet", quiet), ("P-full", owing))
    ]
    record_payments(session, runtime.config, payments, "test", midnight(DAY))
    session.refresh(task)
    statuses = session.scalars(sa.select(col(OutreachMessage.status)).where(col(OutreachMessage.id).in_(queued)))
    assert set(statuses) == {"cancelled"}
    assert (task.status, task.reason) == ("withdrawn", "paid in full")
    assert [session.get(Account, a.id).stage for a in (owing, quiet)] == ["closed", "closed"]  # type: ignore[union-attr]


# --- reconciliation first ------------------------------------------------------------------------


def test_paying_an_installment_cancels_its_queued_reminder_and_nothing_reaches_the_customer(
    session: Session, runtime: Runtime
) -> None:
    account = add_account(session, "REM", due_date=date(2026, 1, 1), interest_minor=0, fees_minor=0)
    plan = add_plan(session, account, [40_000, 30_000, 30_000], first_due=DAY + timedelta(days=2))
    run_day(session, runtime, DAY)  # two days before installment 1: its reminder is queued
    queued = session.exec(
        select(OutreachMessage).where(OutreachMessage.account_id == account.id).order_by(col(OutreachMessage.id))
    ).all()
    assert [(m.purpose, m.template, m.status) for m in queued] == [
        ("plan", "installment_due", "queued"),
        ("validation", "validation_notice", "queued"),  # a notice the law requires: not a reminder to pay
    ]

    pay(session, runtime, account, "P-part", 10_000)  # part of the installment: the reminder still stands
    session.refresh(queued[0])
    assert queued[0].status == "queued"
    pay(session, runtime, account, "P-rest", 30_000)  # the rest of it: what the reminder asks for is paid
    session.refresh(queued[0])
    assert (queued[0].status, queued[0].error) == ("cancelled", "installment paid")
    assert installments(session, plan) == [40_000, 0, 0]
    assert account.stage == "plan"
    assert account.balance_minor == 60_000
    session.refresh(queued[1])
    assert queued[1].status == "queued"
    dispatch_due(session, runtime.config, runtime.channel, midnight(DAY) + timedelta(hours=15))
    sent = session.exec(select(OutreachMessage.template).where(col(OutreachMessage.sent_at).is_not(None))).all()
    assert sent == ["validation_notice"]


# --- accrual --------------------------------------------------------------------------------------


def test_the_cycle_accrues_interest_and_fees_as_the_policy_says_capped_and_frozen(
    session: Session, runtime: Runtime
) -> None:
    config = runtime.config
    start = DAY - timedelta(days=30)
    cases = {
        "us-card": add_account(session, "ACC1", due_date=date(2026, 1, 1), interest_minor=0, fees_minor=0),
        "us-loan": add_account(session, "ACC2", due_date=date(2026, 2, 1), interest_minor=0, fees_minor=0),
        "cn-capped": add_account(
            session,
            "ACC3",
            due_date=date(2026, 1, 1),
            interest_minor=23_990,
            fees_minor=0,
            jurisdiction="CN",
            currency="CNY",
            locale="zh-CN",
            time_zone="Asia/Shanghai",
        ),
        "uk-breathing": add_account(
            session, "ACC4", due_date=date(2026, 1, 1), jurisdiction="UK", currency="GBP", time_zone="Europe/London"
        ),
        "us-hardship-over": add_account(session, "ACC5", due_date=date(2026, 1, 1), interest_minor=0, fees_minor=0),
        "cn-plan": add_account(
            session,
            "ACC6",
            due_date=date(2026, 1, 1),
            jurisdiction="CN",
            currency="CNY",
            locale="zh-CN",
            time_zone="Asia/Shanghai",
        ),
        "not-due": add_account(session, "ACC7", due_date=DAY + timedelta(days=3)),
        "us-plan-accrues": add_account(session, "ACC8", due_date=date(2026, 1, 1), fees_minor=0),
    }
    cases["us-loan"].product = "personal_loan"
    for account in cases.values():
        account.accrued_through = start
        session.add(account)
    place_hold(
        session,
        cases["uk-breathing"].id,  # type: ignore[arg-type]
        "breathing_space",
        "Debt Respite Scheme",
        "ops",
        start,
        midnight(start),  # type: ignore[arg-type]
    )
    place_hold(
        session,
        cases["us-hardship-over"].id,  # type: ignore[arg-type]
        "hardship",
        "job loss",
        "ops",
        start - timedelta(days=60),
        midnight(start),
        ends_on=start,
    )
    add_plan(session, cases["cn-plan"], [60_000, 47_500], first_due=DAY + timedelta(days=5))
    # An installment plan as offered: interest keeps accruing on top of it, fees are frozen while it runs.
    add_plan(session, cases["us-plan-accrues"], [50_000, 50_000], first_due=DAY + timedelta(days=5), interest="accrues")
    session.flush()
    before = {name: (a.interest_minor, a.fees_minor) for name, a in cases.items()}

    assert accrual.accrue(session, config, DAY, SHARD) == 7  # every delinquent account moved to today
    assert accrual.accrue(session, config, DAY, SHARD) == 0  # a rerun of the day adds nothing
    session.expire_all()
    frozen = {"uk-breathing", "cn-plan"}
    for name, account in cases.items():
        session.refresh(account)
        customer = session.get(Customer, account.customer_id)
        assert customer is not None
        terms = config.policy(customer.jurisdiction).accrual.terms_for(account.product)
        expected = expected_accrual(
            account.principal_minor,
            *before[name],
            account.currency,
            days_past_due(account.due_date, start),
            days_past_due(account.due_date, DAY),
            terms,
            frozen=name in frozen,
        )
        fees = before[name][1] if name == "us-plan-accrues" else expected.fees_minor  # the plan froze only fees
        assert (account.interest_minor, account.fees_minor) == (expected.interest_minor, fees), name
        assert account.accrued_through == (start if name == "not-due" else DAY), name
    assert cases["cn-capped"].interest_minor == 24_000  # 24% of the principal, not a cent more
    assert cases["us-card"].fees_minor == 3_000  # days past due 39 to 68: the late fee of day 61, $30
    assert cases["us-loan"].fees_minor == 0
    assert cases["us-loan"].interest_minor > 0
    assert cases["us-plan-accrues"].interest_minor > before["us-plan-accrues"][0]
    assert before["uk-breathing"] == (cases["uk-breathing"].interest_minor, cases["uk-breathing"].fees_minor)

    run_day(session, runtime, DAY + timedelta(days=1))  # the daily cycle does the same, one more day
    session.refresh(cases["us-card"])
    assert cases["us-card"].accrued_through == DAY + timedelta(days=1)
    assert (
        cases["us-card"].interest_minor
        == expected_accrual(
            100_000,
            0,
            0,
            "USD",
            days_past_due(date(2026, 1, 1), start),
            days_past_due(date(2026, 1, 1), DAY) + 1,
            config.policy("US").accrual.terms_for("credit_card"),
            frozen=False,
        ).interest_minor
    )


# --- the command line -----------------------------------------------------------------------------


def test_payments_show_and_reverse_on_the_command_line(sqlite_url: str) -> None:
    from typer.testing import CliRunner

    from overdue.cli import app
    from overdue.store.db import session_scope
    from tests.support import make_runtime

    runtime = make_runtime(sqlite_url)
    with session_scope(sqlite_url) as session:
        account = add_account(session, "CLI", due_date=date(2026, 2, 1), jurisdiction="CN", currency="CNY")
        pay(session, runtime, account, "P-cli", 110_000)

    def invoke(*args: str) -> str:
        result = CliRunner().invoke(app, [*args, "--database-url", sqlite_url], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        return result.output

    shown = invoke("payments", "show", "A-CLI")
    assert "credit CN¥25.00" in shown
    assert "P-cli" in shown
    assert "CN¥50.00" in shown  # interest first: CN at 37 days past due
    reversed_ = invoke("payments", "reverse", "P-cli", "--ref", "RET-cli", "--kind", "chargeback", "--as", "ops.li")
    assert "The account re-opened." in reversed_
    assert "already recorded" in invoke("payments", "reverse", "P-cli", "--ref", "RET-cli", "--as", "ops.li")
    ledger = json.loads(invoke("payments", "show", "A-CLI", "--json"))
    assert (ledger["balance_minor"], ledger["credit_minor"]) == (107_500, 0)
    assert [(p["payment_ref"], p["amount_minor"]) for p in ledger["payments"]] == [
        ("P-cli", 110_000),
        ("RET-cli", -110_000),
    ]
