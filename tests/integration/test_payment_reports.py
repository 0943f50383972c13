"""The figures a manager compares arms on, on SQLite and PostgreSQL: the cure rate and the PTP kept rate."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from sqlmodel import Session
from typer.testing import CliRunner

from overdue.cli import app
from overdue.runtime import Runtime
from overdue.services.agent_calls import CallReport, log_call
from overdue.services.payments import PaymentIn, record_payments
from overdue.services.plans import make_promise, monitor_plans
from overdue.services.reporting import arm_outcomes
from overdue.store.tables import Account
from tests.support import add_account

DUE = date(2026, 2, 1)


def paid(session: Session, runtime: Runtime, account: Account, ref: str, amount: int, day: date, **kind: str) -> None:
    payment = PaymentIn(ref, account.id, amount, "USD", day, "test", **kind)  # type: ignore[arg-type]
    record_payments(session, runtime.config, [payment], "test", datetime(2026, 3, 1, tzinfo=UTC))


def promised(session: Session, runtime: Runtime, account: Account, day: date, on: date) -> None:
    """An agent logs a call in which the customer promised the balance by `on`."""
    at = datetime(day.year, day.month, day.day, 15, tzinfo=UTC)
    report = CallReport(account.id, at, "promise_to_pay", promised_on=on)  # type: ignore[arg-type]
    assert log_call(session, runtime, report, "agent.li", at).promise is not None


def test_cure_and_promise_kept_rates_per_arm(session: Session, runtime: Runtime) -> None:
    """Promises are promise plans however they were made (a call, an SMS): kept when paid, broken when the date
    and its grace pass unpaid, and a charged-back payment breaks the promise it had kept."""
    kept = add_account(session, "kept", due_date=DUE)  # late, promised, paid in full by the date: cured
    promised(session, runtime, kept, date(2026, 2, 10), date(2026, 2, 14))
    paid(session, runtime, kept, "P-kept", kept.balance_minor, date(2026, 2, 14))
    broken = add_account(session, "broken", due_date=DUE)  # promised, paid nothing
    broken.stage = "negotiation"  # where the cycle has it
    promised(session, runtime, broken, date(2026, 2, 10), date(2026, 2, 14))
    returned = add_account(session, "returned", due_date=DUE)  # promised, paid, the payment charged back
    promised(session, runtime, returned, date(2026, 2, 10), date(2026, 2, 14))
    owed = returned.balance_minor
    paid(session, runtime, returned, "P-ret", owed, date(2026, 2, 12))
    paid(
        session,
        runtime,
        returned,
        "CB-ret",
        owed,
        date(2026, 2, 20),
        kind="chargeback",
        reverses="P-ret",
    )
    early = add_account(session, "early", due_date=date(2026, 3, 1))  # paid before it was due: never delinquent
    paid(session, runtime, early, "P-early", early.balance_minor, date(2026, 2, 25))
    challenger = add_account(session, "chall", due_date=DUE)
    challenger.strategy_arm, challenger.stage = "early_offer", "negotiation"
    at = datetime(2026, 2, 12, 9, tzinfo=UTC)  # "I'll pay 50 on the 20th" by SMS
    make_promise(session, runtime.config, challenger.id, 5_000, date(2026, 2, 20), "sms", "sms", at)  # type: ignore[arg-type]
    paid(session, runtime, challenger, "P-chall", 5_000, date(2026, 2, 19))
    monitor_plans(session, runtime.config, date(2026, 2, 28), datetime(2026, 2, 28, tzinfo=UTC), (1, 10**9))
    session.flush()

    arms = {a.arm: a for a in arm_outcomes(session, {})}
    champion = arms["default"]
    assert (champion.went_delinquent, champion.cured) == (3, 1)
    assert (champion.promises_kept, champion.promises_broken) == (1, 2)
    assert round(champion.ptp_kept_rate, 3) == 0.333
    assert (arms["early_offer"].promises_kept, arms["early_offer"].promises_broken) == (1, 0)
    assert arms["early_offer"].cure_rate == 0.0  # a part payment is not a cure
    session.commit()
    result = CliRunner().invoke(app, ["report", "arms", "--json", "--database-url", runtime.database_url])
    assert result.exit_code == 0, result.output
    rows = {row["arm"]: row for row in json.loads(result.output)}
    assert (rows["default"]["cure_rate"], rows["early_offer"]["ptp_kept_rate"]) == (1 / 3, 1.0)
