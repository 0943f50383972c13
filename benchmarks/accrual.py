"""The daily accrual's cost: `python -m benchmarks.accrual --accounts 1000000 [--database-url URL]`.

Builds N delinquent accounts in SQL (customers in US, CN and UK, cards and loans, one in twenty on a hardship
hold), then times, over shards of 10,000 accounts, the cycle's ageing alone (a one-column UPDATE of every
open account) against accrual followed by the ageing, which then finds the accrued rows already aged. The
difference is what accrual adds to a daily cycle. A fresh SQLite file, or a database created on the
PostgreSQL server of --database-url and dropped afterwards.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from benchmarks.machine import describe
from overdue.config import load_configuration
from overdue.services import accrual, cycle
from overdue.settings import PROJECT_ROOT, normalize_database_url
from overdue.store.db import get_engine, session_scope
from overdue.store.migrate import upgrade

SHARD = 10_000
DAY = date(2026, 3, 10)


def build(url: str, accounts: int) -> None:
    postgres = url.startswith("postgresql")
    series = (
        "generate_series(1, :n) AS g(i)"
        if postgres
        else "(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < :n) SELECT i FROM s) AS g"
    )
    customers = max(accounts // 10, 1)
    with session_scope(url) as session:
        session.execute(
            sa.text(
                "INSERT INTO customer (external_ref, full_name, time_zone, locale, jurisdiction, vulnerability,"
                " workplace_contact_ok, created_at) SELECT 'C' || i, 'x', 'UTC', 'en-US', CASE i % 3 WHEN 0 THEN"
                f" 'US' WHEN 1 THEN 'CN' ELSE 'UK' END, '[]', false, '2026-01-01 00:00:00' FROM {series}"
            ),
            {"n": customers},
        )
        session.execute(
            sa.text(
                "INSERT INTO account (external_ref, customer_id, product, currency, principal_minor, interest_minor,"
                " fees_minor, placed_balance_minor, due_date, dpd, stage, broken_plans, credit_minor, strategy_arm,"
                f" version) SELECT 'A' || i, (i % {customers}) + 1, CASE i % 2 WHEN 0 THEN 'credit_card' ELSE"
                f" 'personal_loan' END, CASE ((i % {customers}) + 1) % 3 WHEN 0 THEN 'USD' WHEN 1 THEN 'CNY'"
                " ELSE 'GBP' END, 100000 + i % 5000, 0, 0, 100000, '2026-01-01', 0, 'reminder', 0, 0, 'default', 0"
                f" FROM {series}"
            ),
            {"n": accounts},
        )
        session.execute(
            sa.text(
                "INSERT INTO hold (account_id, kind, reason, starts_on, created_by)"
                f" SELECT i * 20, 'hardship', 'x', '2026-01-01', 'x' FROM {series}"
            ),
            {"n": accounts // 20},
        )
        session.execute(sa.text("ANALYZE"))


def timed(url: str, accounts: int, steps: list[str]) -> float:
    config = load_configuration(PROJECT_ROOT / "configs")
    with session_scope(url) as session:
        session.execute(
            sa.text("UPDATE account SET accrued_through = NULL, dpd = 0, interest_minor = 0, fees_minor = 0")
        )
    started = time.perf_counter()
    for low in range(1, accounts + 1, SHARD):
        shard = (low, low + SHARD - 1)
        with session_scope(url) as session:
            if "accrue" in steps:
                accrual.accrue(session, config, DAY, shard)
            cycle._age_accounts(session, DAY, shard)  # what the cycle does to every open account anyway
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=200_000)
    parser.add_argument("--database-url", default="", help="A PostgreSQL server; default: a SQLite file.")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    admin, name = None, f"overdue_accrual_{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'accrual.db'}"
        if args.database_url:
            admin = sa.create_engine(normalize_database_url(args.database_url), isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
            url = admin.url.set(database=name).render_as_string(hide_password=False)
        upgrade(url)
        started = time.perf_counter()
        build(url, args.accounts)
        print(f"{describe()}\n{args.accounts:,} delinquent accounts built in {time.perf_counter() - started:.1f} s")
        for run in range(1, args.runs + 1):
            ageing = timed(url, args.accounts, [])
            both = timed(url, args.accounts, ["accrue"])
            print(
                f"run {run}: ageing alone {ageing:.2f} s; accrual then ageing {both:.2f} s;"
                f" accrual adds {both - ageing:.2f} s"
            )
        get_engine(url).dispose()
    if admin is not None:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
