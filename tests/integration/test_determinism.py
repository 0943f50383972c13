"""The same data evaluated on the same dates gives the same stages, messages and audit trail: twice with one
shard size, and with others (SQLite and PostgreSQL). Holds, flags and pauses are in play."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import yaml
from sqlmodel import col, select

from overdue.config.models import StageRule
from overdue.runtime import Runtime
from overdue.services.holds import place_hold
from overdue.services.pauses import pause_account
from overdue.services.shard_cycle import plan_shards, run_next_shard
from overdue.sim.portfolio import PortfolioSpec, generate_portfolio
from overdue.store.db import session_scope
from overdue.store.tables import Account, AuditEvent, Offer, OutreachMessage
from tests.support import make_runtime, with_champion

START = date(2026, 3, 2)
DATES = [START + timedelta(days=n) for n in (0, 2, 5, 9, 14, 35)]


def with_forbearance(runtime: Runtime) -> Runtime:
    """A stage for accounts under a hardship hold, so flags take part in the evaluation."""
    stages = tuple(
        StageRule.model_validate(item)
        for item in yaml.safe_load("[{name: forbearance, when: {flags: [hardship], not_flags: [vulnerable]}}]")
    )
    return with_champion(runtime, stages=stages + runtime.config.strategy.stages)


def evaluate(url: str, shard_size: int) -> None:
    runtime = with_forbearance(make_runtime(url))
    now = datetime.combine(START, datetime.min.time(), tzinfo=UTC)
    with session_scope(url) as session:
        generate_portfolio(session, PortfolioSpec(accounts=120, seed=11, start=START), runtime.vault)
        for account_id in range(1, 13):
            place_hold(session, account_id, "hardship", "Lost income", "ops.bo", START, now)
        for account_id in range(13, 25):
            pause_account(
                session, account_id, START + timedelta(days=3), START + timedelta(days=12), "x", "ops", START, now
            )
    for as_of in DATES:
        at = datetime.combine(as_of, datetime.min.time(), tzinfo=UTC)
        with session_scope(url) as session:
            plan_shards(session, as_of, shard_size)
        while True:
            with session_scope(url) as session:
                if run_next_shard(session, runtime, as_of, at, "worker") is None:
                    break


def snapshot(url: str) -> dict[str, Any]:
    with session_scope(url) as session:
        accounts = sorted(
            (a.external_ref, a.stage, a.stage_entered_on, a.next_action_on, a.anchor_on, a.dpd)
            for a in session.exec(select(Account))
        )
        messages = sorted(
            (m.idempotency_key, m.account_id, m.channel, m.address, m.step, m.subject, m.body, m.status, m.send_at)
            for m in session.exec(select(OutreachMessage))
        )
        events = Counter(
            (e.account_id, e.kind, e.ts, json.dumps(without_row_ids(e.data), sort_keys=True))
            for e in session.exec(select(AuditEvent).where(col(AuditEvent.kind) != "account.imported"))
        )
        offers = sorted(
            (o.account_id, o.status, o.total_minor, o.installments, o.first_due_date, o.created_on, o.expires_on)
            for o in session.exec(select(Offer))
        )
    return {"accounts": accounts, "messages": messages, "events": events, "offers": offers}


def without_row_ids(data: dict[str, Any]) -> dict[str, Any]:
    """An event's data less the ids of rows it names (an offer's, a task's): the database hands those out in
    the order rows arrive, which the shard size changes; what the rows say is compared on its own."""
    return {key: value for key, value in data.items() if not key.endswith("_id")}


def test_the_same_data_and_dates_give_the_same_results_whatever_the_shard_size(
    database_url: str, another_database: Callable[[], str]
) -> None:
    runs = {}
    for label, url, shard_size in [
        ("shards of 7", database_url, 7),
        ("shards of 7, again", another_database(), 7),
        ("shards of 50", another_database(), 50),
        ("one shard", another_database(), 1000),
    ]:
        evaluate(url, shard_size)
        runs[label] = snapshot(url)
    first = runs.pop("shards of 7")
    assert first["messages"], "nothing was queued: the comparison would prove nothing"
    assert {stage for _, stage, *_ in first["accounts"]} >= {"reminder", "negotiation", "forbearance"}
    for label, other in runs.items():
        for part in ("accounts", "messages", "events", "offers"):
            assert other[part] == first[part], f"{part} differ with {label}"
