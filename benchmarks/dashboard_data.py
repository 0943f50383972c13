"""The portfolio the dashboard benchmark reads: N accounts and M audit events on PostgreSQL, with the messages,
payments, plans, tasks, holds and rollups a year of collections leaves. Built once with COPY
(overdue/store/bulk.py) into a database named for its size and stamped with the schema head and this file's
source; a later run with the same stamp reuses it.
"""

from __future__ import annotations

import hashlib
import inspect
import random
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from pydantic import SecretStr
from sqlmodel import Session

from benchmarks import postgres
from benchmarks.portfolios import data_keys
from overdue.runtime import build_runtime
from overdue.services.rollups import roll_up
from overdue.settings import Settings
from overdue.sim.portfolio import PortfolioSpec, generate_portfolio
from overdue.store.bulk import insert_rows
from overdue.store.db import get_engine, refresh_statistics, session_scope
from overdue.store.migrate import head_revision, upgrade
from overdue.store.tables import (
    AuditEvent,
    Conversation,
    Hold,
    HumanTask,
    InboundMessage,
    Installment,
    LegalCase,
    OutreachMessage,
    Payment,
    PaymentPlan,
)

AS_OF = date(2026, 11, 20)
CHUNK = 200_000
ROLLED_DAYS = 3  # rolled up for real (and timed); the rest of the year copies their rows
KINDS = (
    ("message.queued", 0.3),
    ("message.sent", 0.3),
    ("stage.changed", 0.15),
    ("message.delivered", 0.1),
    ("payment.received", 0.05),
    ("offer.made", 0.05),
    ("message.blocked", 0.05),
)
STAGES = ("reminder", "negotiation", "current")


def database_name(accounts: int, events: int) -> str:
    return f"overdue_dash_{accounts}_{events}"


def stamp() -> str:
    return f"schema {head_revision()}, {_builder()}"


def _builder() -> str:
    return f"builder {hashlib.sha256(inspect.getsource(sys.modules[__name__]).encode()).hexdigest()[:12]}"


def ensure(url: str, accounts: int, events: int, folder: Path, log: Callable[[str], None] = print) -> str:
    """The URL of the built database, building it first unless one this builder built is there. A database
    built before a migration is upgraded in place, as production's would be: an hour's build is kept."""
    name = database_name(accounts, events)
    found = postgres.comment(url, name)
    if found is not None and found.endswith(_builder()):
        if found != stamp():
            log(f"upgrading {name} to the schema head")
            upgrade(postgres.database_url(url, name))
            postgres.set_comment(url, name, stamp())
        log(f"reusing {name}")
        return postgres.database_url(url, name)
    building = f"{name}_building"
    postgres.drop(url, building)
    target = postgres.create(url, building)
    upgrade(target)
    keys = data_keys(folder)
    runtime = build_runtime(Settings(database_url=target, data_keys=SecretStr(keys)), target)
    started = time.perf_counter()

    def step(label: str, work: Callable[[Session], Any]) -> None:
        begun = time.perf_counter()
        with session_scope(target) as session:
            work(session)
        log(f"  {label}: {time.perf_counter() - begun:.0f} s")

    spec = PortfolioSpec(accounts=accounts, seed=11, start=AS_OF)
    step(f"{accounts:,} accounts", lambda s: generate_portfolio(s, spec, runtime.vault))
    step("ages and stages", _age)
    step("2 messages per account", lambda s: _messages(s, accounts))
    step(f"{events:,} audit events", lambda s: _events(s, accounts, events))
    step("payments, plans, tasks, holds, replies", lambda s: _casework(s, accounts))
    step("statistics", refresh_statistics)
    for day in range(ROLLED_DAYS):
        step(f"roll-up {AS_OF - timedelta(days=ROLLED_DAYS - 1 - day)}", partial(_roll, day=day))
    step("a year of rollups", _year_of_rollups)
    log(f"built in {time.perf_counter() - started:.0f} s")
    get_engine(target).dispose()
    postgres.drop(url, name)
    postgres.rename(url, building, name)
    postgres.set_comment(url, name, stamp())
    return postgres.database_url(url, name)


def _age(session: Session) -> None:
    """Due dates spread over a year back, stages by DPD, a tenth of the accounts paid off (closed)."""
    session.execute(
        sa.text(
            """
            UPDATE account SET due_date = due_date - ((id * 37) % 360),
                               dpd = dpd + ((id * 37) % 360),
                               stage_entered_on = due_date
            """
        )
    )
    session.execute(
        sa.text(
            """
            UPDATE account SET stage = CASE WHEN id % 10 = 0 THEN 'closed'
                                            WHEN dpd <= -4 THEN 'current'
                                            WHEN dpd <= 30 THEN 'reminder'
                                            WHEN id % 7 = 0 THEN 'plan'
                                            WHEN id % 13 = 0 AND dpd > 120 THEN 'legal'
                                            ELSE 'negotiation' END
            """
        )
    )
    session.execute(
        sa.text("UPDATE account SET principal_minor = 0, interest_minor = 0, fees_minor = 0 WHERE stage = 'closed'")
    )


def _chunks(total: int, make: Callable[[int], dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for first in range(0, total, CHUNK):
        yield [make(n) for n in range(first, min(first + CHUNK, total))]


def _instant(rng: random.Random, days: int = 365) -> datetime:
    return datetime.combine(AS_OF, datetime.min.time(), tzinfo=UTC) - timedelta(seconds=rng.randint(0, days * 86400))


def _messages(session: Session, accounts: int) -> None:
    rng = random.Random(1)
    channels = ("sms", "email", "voice", "letter")

    def message(n: int) -> dict[str, Any]:
        account = n // 2 + 1
        channel = channels[n % 4]
        at = _instant(rng)
        failed = n % 97 == 0
        return {
            "idempotency_key": f"bench:{n}",
            "account_id": account,
            "customer_id": account,
            "channel": channel,
            "address": f"+1212555{n % 10000:04d}" if channel in ("sms", "voice") else f"c{account}@example.com",
            "template": "reminder_early",
            "locale": "en-US",
            "stage": "reminder",
            "step": f"early_{channel}",
            "purpose": "collection",
            "subject": "Your account" if channel == "email" else None,
            "body": f"Hello, your account ending {account % 10000:04d} is past due. Reply STOP to opt out.",
            "status": "failed" if failed else "sent",
            "send_at": at,
            "sent_at": None if failed else at,
            "provider": "dry-run",
            "error": "21211 invalid number" if failed else None,
            "created_at": at,
            "delivery": "delivered" if n % 3 else None,
        }

    for rows in _chunks(accounts * 2, message):
        insert_rows(session, OutreachMessage, rows)


def _events(session: Session, accounts: int, events: int) -> None:
    rng = random.Random(2)
    kinds = [kind for kind, _ in KINDS]
    weights = [weight for _, weight in KINDS]

    def event(n: int) -> dict[str, Any]:
        kind = rng.choices(kinds, weights)[0]
        data: dict[str, Any] = {"channel": "sms"} if kind.startswith("message.") else {}
        if kind == "stage.changed":
            data = {"from": "reminder", "to": "negotiation"}
        return {
            "ts": _instant(rng),
            "account_id": rng.randint(1, accounts),
            "actor": "system:cycle",
            "kind": kind,
            "data": data,
        }

    for rows in _chunks(events, event):
        insert_rows(session, AuditEvent, rows)


def _casework(session: Session, accounts: int) -> None:
    rng = random.Random(3)
    now = datetime.combine(AS_OF, datetime.min.time(), tzinfo=UTC)

    def pick() -> int:
        return rng.randint(1, accounts)

    insert_rows(
        session,
        Payment,
        [
            {
                "payment_ref": f"bench-{n}",
                "account_id": (account := pick()),
                "amount_minor": rng.randint(10_00, 500_00),
                "currency": "USD" if account % 2 else "CNY",
                "received_on": AS_OF - timedelta(days=rng.randint(0, 365)),
                "source": "import",
                "to_principal_minor": 0,
                "created_at": now,
            }
            for n in range(accounts // 3)
        ],
    )
    plans = accounts // 10
    insert_rows(
        session,
        PaymentPlan,
        [
            {
                "account_id": pick(),
                "status": ("active", "kept", "broken")[n % 3],
                "total_minor": 600_00,
                "grace_days": 5,
                "created_on": AS_OF - timedelta(days=rng.randint(30, 300)),
            }
            for n in range(plans)
        ],
    )
    insert_rows(
        session,
        Installment,
        [
            {
                "plan_id": n // 6 + 1,
                "seq": n % 6 + 1,
                "due_date": AS_OF - timedelta(days=30 * (n % 6)),
                "amount_minor": 100_00,
                "paid_minor": 100_00 if n % 2 else 0,
            }
            for n in range(plans * 6)
        ],
    )
    tasks = accounts // 20
    insert_rows(
        session,
        HumanTask,
        [
            {
                "kind": "legal_escalation",
                "account_id": n * 20 + 1,
                "payload": {"rule": "long_delinquent", "dpd": 130},
                "role_needed": "legal",
                "requested_by": "system:cycle",
                "due_at": (created := _instant(rng, 30)) + timedelta(hours=72),
                "status": "open" if n % 2 else "approved",
                "decided_by": None if n % 2 else "legal.lee",
                "decided_at": None if n % 2 else created + timedelta(hours=20),
                "reason": None if n % 2 else "No payment for 130 days",
                "version": 0 if n % 2 else 1,
                "created_at": created,
            }
            for n in range(tasks)
        ],
    )
    insert_rows(
        session,
        LegalCase,
        [
            {
                "account_id": n * 40 + 1,
                "task_id": n * 2 + 1,
                "balance_minor": 5000_00,
                "opened_on": AS_OF - timedelta(days=10),
                "approved_by": "legal.lee",
            }
            for n in range(tasks // 2)
        ],
    )
    insert_rows(
        session,
        Hold,
        [
            {
                "account_id": pick(),
                "kind": ("dispute", "complaint", "hardship")[n % 3],
                "reason": "customer wrote in",
                "starts_on": AS_OF - timedelta(days=rng.randint(0, 365)),
                "created_by": "agent.ann",
                "placed_at": now,
            }
            for n in range(accounts // 50)
        ],
    )
    insert_rows(
        session,
        Conversation,
        [
            {
                "account_id": pick(),
                "channel": "voice",
                "at": (at := _instant(rng)),
                "outcome": ("promise_to_pay", "hardship", "refused")[n % 3],
                "note": "spoke with the customer",
                "recorded_by": "agent.ann",
                "created_at": at,
            }
            for n in range(accounts // 20)
        ],
    )
    insert_rows(
        session,
        InboundMessage,
        [
            {
                "channel": "sms",
                "provider": "twilio",
                "provider_id": f"SMbench{n}",
                "from_address": "+12125550100",
                "customer_id": (account := pick()),
                "account_id": account,
                "body": "I will pay on Friday",
                "intent": "promise",
                "promised_on": AS_OF - timedelta(days=rng.randint(0, 365)),
                "received_at": _instant(rng),
            }
            for n in range(accounts // 20)
        ],
    )


def _roll(session: Session, day: int) -> None:
    roll_up(session, AS_OF - timedelta(days=ROLLED_DAYS - 1 - day))


def _year_of_rollups(session: Session) -> None:
    """The page reads a year of daily rows: the last real day's rows, copied back to fill the year."""
    last = AS_OF
    for back in range(ROLLED_DAYS, 365):
        session.execute(
            sa.text(
                """
                INSERT INTO metricrollup (metric, as_of, arm, key1, key2, count, amount_minor)
                SELECT metric, CAST(:day AS date), arm, key1, key2, count, amount_minor
                FROM metricrollup WHERE as_of = :last
                """
            ),
            {"day": AS_OF - timedelta(days=back), "last": last},
        )
