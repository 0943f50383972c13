"""Reconciliation first, through the real daily-cycle flow: the payment files in the inbox are imported before
any reminder is planned, so a customer who paid overnight is not reminded in the morning; a rejected file is
set aside with its problems and imports nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlmodel import select

from flows.daily_cycle import daily_cycle
from flows.simulation import in_process_flows
from overdue.settings import get_settings
from overdue.store.db import session_scope
from overdue.store.tables import Account, OutreachMessage
from tests.support import add_account

pytestmark = [pytest.mark.prefect]


@pytest.fixture
def inbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "inbox"
    folder.mkdir()
    monkeypatch.setenv("OVERDUE_PAYMENTS_INBOX", str(folder))
    get_settings.cache_clear()
    yield folder
    get_settings.cache_clear()


@pytest.mark.usefixtures("prefect_harness")
def test_payments_in_the_inbox_are_applied_before_anyone_is_reminded(sqlite_url: str, inbox: Path) -> None:
    with session_scope(sqlite_url) as session:
        add_account(session, "PAID", due_date=date(2026, 3, 8))  # its pre-due text would go out today
        add_account(session, "UNPAID", due_date=date(2026, 3, 8))
    (inbox / "2026-03-05.csv").write_text(
        "payment_ref,account_ref,amount,currency,received_on\nP-night,A-PAID,1075.00,USD,2026-03-04\n",
        encoding="utf-8",
    )
    (inbox / "broken.csv").write_text("payment_ref,account_ref\nX,A-UNPAID\n", encoding="utf-8")
    with in_process_flows():
        summary = daily_cycle(
            as_of=date(2026, 3, 5),  # a date of its own: the harness is shared with the other flow tests
            now=datetime(2026, 3, 5, tzinfo=UTC),
            database_url=SecretStr(sqlite_url),
        )
    assert summary["payments"] == {"files": 2, "rejected": 1, "recorded": 1, "already_recorded": 0}
    with session_scope(sqlite_url) as session:
        stages = dict(session.exec(select(Account.external_ref, Account.stage)).all())
        reminded = set(session.exec(select(Account.external_ref).join(OutreachMessage)).all())
    assert stages == {"A-PAID": "closed", "A-UNPAID": "reminder"}
    assert reminded == {"A-UNPAID"}
    assert [p.name for p in inbox.iterdir() if p.is_file()] == []
    assert (inbox / "done" / "2026-03-05.csv").exists()
    problems = (inbox / "rejected" / "broken.problems.txt").read_text(encoding="utf-8")
    assert "broken.csv:1: field 'amount': required column is missing" in problems
