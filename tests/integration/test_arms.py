"""Champion/challenger on SQLite and PostgreSQL: an imported account's arm is recorded, the cycle follows
that arm's strategy, and the report compares the arms."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from sqlmodel import Session, select
from typer.testing import CliRunner

from overdue.cli import app
from overdue.runtime import Runtime
from overdue.services.imports.accounts import import_accounts
from overdue.services.reporting import arm_outcomes
from overdue.store.tables import Account, AuditEvent
from tests.support import NOW, add_account, run_day

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "accounts.csv"


def test_an_imported_account_records_its_arm(session: Session, runtime: Runtime) -> None:
    import_accounts(session, runtime.config, runtime.vault, EXAMPLES, NOW)
    accounts = session.exec(select(Account)).all()
    assert {a.strategy_arm for a in accounts} <= {"default", "early_offer"}
    imported = {
        e.data["ref"]: e.data["strategy_arm"] for e in session.exec(select(AuditEvent)) if e.kind == "account.imported"
    }
    assert imported == {a.external_ref: a.strategy_arm for a in accounts}


def test_each_account_follows_its_own_arms_strategy(session: Session, runtime: Runtime) -> None:
    champion = add_account(session, "champion", due_date=date(2026, 2, 1))
    challenger = add_account(session, "challenger", due_date=date(2026, 2, 1))
    challenger.strategy_arm = "early_offer"
    session.add(challenger)
    session.flush()
    run_day(session, runtime, date(2026, 2, 12))  # 11 days past due
    session.refresh(champion)
    session.refresh(challenger)
    assert (champion.stage, challenger.stage) == ("reminder", "negotiation")  # early_offer offers from day 10


def test_the_report_compares_the_arms(session: Session, runtime: Runtime) -> None:
    for n in range(3):
        add_account(session, f"champ-{n}", due_date=date(2026, 2, 1))
    other = add_account(session, "chall", due_date=date(2026, 2, 1))
    other.strategy_arm = "early_offer"
    session.add(other)
    session.flush()
    run_day(session, runtime, date(2026, 2, 12))
    arms = {a.arm: a for a in arm_outcomes(session, {"email": 0.5})}
    assert (arms["default"].accounts, arms["early_offer"].accounts) == (3, 1)
    assert arms["default"].resolved_rate == 0.0
    session.commit()
    result = CliRunner().invoke(app, ["report", "arms", "--json", "--database-url", runtime.database_url])
    assert result.exit_code == 0, result.output
    assert {row["arm"]: row["accounts"] for row in json.loads(result.output)} == {"default": 3, "early_offer": 1}
