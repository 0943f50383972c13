"""Planner statistics before a day's cycle: on PostgreSQL only the tables that changed are analysed again."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from overdue.store.db import STALE_TABLES, refresh_statistics, session_scope
from tests.support import add_account

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def flush_counters(session: Session) -> None:
    """The session's table counters reach pg_stat at commit, not up to seconds later."""
    session.execute(sa.text("SELECT pg_stat_force_next_flush()"))


def stale(url: str) -> list[str]:
    with session_scope(url) as session:
        return list(session.scalars(sa.text(STALE_TABLES)))


def analysed(url: str) -> dict[str, int]:
    with session_scope(url) as session:
        rows = session.execute(sa.text("SELECT relname, analyze_count FROM pg_stat_user_tables")).tuples().all()
    return {name: int(count) for name, count in rows}


def test_only_tables_changed_by_a_tenth_since_their_last_analysis_are_analysed(database_url: str) -> None:
    with session_scope(database_url) as session:
        refresh_statistics(session)
        flush_counters(session)
    assert stale(database_url) == []
    with session_scope(database_url) as session:
        for n in range(120):
            add_account(session, f"s{n}", due_date=date(2026, 3, 1))
        flush_counters(session)
    assert {"account", "customer", "contactpoint"} <= set(stale(database_url))
    before = analysed(database_url)

    with session_scope(database_url) as session:
        refresh_statistics(session, changed_only=True)
        flush_counters(session)

    after = analysed(database_url)
    assert stale(database_url) == []
    assert after["account"] == before["account"] + 1
    assert after["humantask"] == before["humantask"]  # unchanged: not analysed again
