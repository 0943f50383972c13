"""The real Prefect flows under the test harness (started once per session), and a reduced demo."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, FlowRunFilterName
from pydantic import SecretStr
from sqlmodel import col, select
from typer.testing import CliRunner

from flows.casework import legal_case_proceed, sla_sweep
from flows.daily_cycle import daily_cycle
from flows.simulation import in_process_flows
from overdue.cli import app
from overdue.services.decisions import decide_task
from overdue.sim.portfolio import PortfolioSpec, generate_portfolio
from overdue.store.db import session_scope
from overdue.store.tables import Account, Customer, HumanTask, LegalCase, OutreachMessage, Payment
from tests.support import add_account, add_escalation_task, make_runtime

pytestmark = [pytest.mark.prefect]


@pytest.mark.usefixtures("prefect_harness")
def test_daily_cycle_flow_moves_accounts_and_queues_messages(sqlite_url: str) -> None:
    with session_scope(sqlite_url) as session:
        add_account(session, "pre", due_date=date(2026, 3, 10))
        add_account(session, "late", due_date=date(2026, 2, 1))
        add_account(session, "fine", due_date=date(2026, 4, 30))
    with in_process_flows():
        summary = daily_cycle(
            as_of=date(2026, 3, 7), now=datetime(2026, 3, 7, tzinfo=UTC), database_url=SecretStr(sqlite_url)
        )
    assert summary["stages"]["evaluated"] == 3
    assert summary["stages"]["transitions"] == {"current->reminder": 1, "current->negotiation": 1}
    assert summary["negotiation"]["offers"]["made"] == 1
    assert summary["reminder"]["outreach"]["queued"] == 2  # the pre-due text and its validation notice
    with session_scope(sqlite_url) as session:
        steps = set(session.exec(select(OutreachMessage.step)))
    assert steps == {"pre_due_sms", "offer_email", "validation_notice"}
    with get_client(sync_client=True) as client:
        [run] = client.read_flow_runs(flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=["cycle-2026-03-07"])))
        artifacts = {a.key: a for a in client.read_artifacts() if a.flow_run_id == run.id}
        for _ in range(100):  # task runs are recorded in batches (flows/__init__.py): give the writer a moment
            tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])))
            if len(tasks) >= 5:
                break
            time.sleep(0.1)
    assert run.parameters["database_url"] == "**********"  # a URL may carry a password: never stored in Prefect
    assert set(artifacts) >= {"daily-cycle-summary", "daily-cycle-shards", "daily-cycle-progress"}
    table: Any = artifacts["daily-cycle-shards"].data
    [row] = json.loads(table) if isinstance(table, str) else table  # the API returns the table as JSON text
    assert (row["evaluated"], row["transitions"], row["offers made"]) == (3, 2, 1)
    assert artifacts["daily-cycle-progress"].data == 100.0
    names = sorted(t.name for t in tasks)  # one task run per shard, not per step or account
    assert len(names) == 5
    assert names[0].startswith("dispatch-outbox")
    assert names[1].startswith("ingest-payments")
    assert names[2].startswith("plan-shards")
    assert names[3].startswith("roll-up-metrics")  # the managers' figures, once the date's shards are done
    assert names[4] == "shard-1"
    assert summary["rollup_rows"] > 0
    assert all(not t.tags for t in tasks)  # no concurrency-slot round trip per task run


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_reduced_demo_runs_every_stage_through_the_flows(sqlite_url: str) -> None:
    """The `make demo` job at a tenth of its size: 150 accounts over 50 days."""
    result = CliRunner().invoke(
        app,
        [
            "simulate",
            "--accounts",
            "150",
            "--days",
            "50",
            "--seed",
            "3",
            "--start",
            "2026-01-05",
            "--database-url",
            sqlite_url,
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Accounts per stage" in result.output
    assert "Pending approvals" in result.output
    assert "Contacts the guard refused, by rule:" in result.output
    with session_scope(sqlite_url) as session:
        stages = dict(
            session.execute(sa.select(col(Account.stage), sa.func.count()).group_by(col(Account.stage))).tuples().all()
        )
        locales = set(session.exec(select(OutreachMessage.locale).where(OutreachMessage.status == "sent")))
        channels = set(session.exec(select(OutreachMessage.channel).where(OutreachMessage.status == "sent")))
        payments = session.scalar(sa.select(sa.func.count()).select_from(Payment))
        tasks = dict(
            session.execute(sa.select(col(HumanTask.status), sa.func.count()).group_by(col(HumanTask.status)))
            .tuples()
            .all()
        )
    assert {"reminder", "negotiation", "plan", "closed"} <= set(stages)
    assert sum(stages.values()) == 150
    assert locales == {"en-US", "zh-CN"}
    assert channels == {"sms", "email", "voice", "letter"}
    assert payments
    assert tasks.get("open", 0) + tasks.get("approved", 0) + tasks.get("rejected", 0) > 0


def test_the_same_seed_generates_the_same_portfolio(tmp_path_factory: pytest.TempPathFactory, sqlite_url: str) -> None:
    other = f"sqlite:///{tmp_path_factory.mktemp('other') / 'other.db'}"
    from overdue.store.migrate import upgrade

    upgrade(other)
    snapshots = []
    for url in (sqlite_url, other):
        with session_scope(url) as session:
            generate_portfolio(
                session, PortfolioSpec(accounts=50, seed=11, start=date(2026, 1, 5)), make_runtime(url).vault
            )
        with session_scope(url) as session:
            rows = session.execute(
                sa.select(
                    col(Customer.full_name),
                    col(Customer.time_zone),
                    col(Account.external_ref),
                    col(Account.principal_minor),
                    col(Account.due_date),
                )
                .join(Account, col(Account.customer_id) == col(Customer.id))
                .order_by(col(Account.external_ref))
            ).all()
            snapshots.append([tuple(r) for r in rows])
    assert snapshots[0] == snapshots[1]
    assert {zone for _, zone, *_ in snapshots[0]} >= {"Asia/Shanghai"}


@pytest.mark.usefixtures("prefect_harness")
def test_casework_flows_sweep_the_sla_and_proceed_with_an_approved_case(sqlite_url: str) -> None:
    now = datetime.now(UTC)
    with session_scope(sqlite_url) as session:
        late = add_escalation_task(session, add_account(session, "late", due_date=date(2026, 1, 1)), created_at=now)
        late.due_at = now - timedelta(minutes=1)
        approved = add_escalation_task(session, add_account(session, "go", due_date=date(2026, 1, 1)), created_at=now)
        session.flush()
        decide_task(session, approved.id, 0, "approve", "criteria met", "legal.lee", now, {"legal"})  # type: ignore[arg-type]
        case_id = session.exec(select(LegalCase.id)).one()
    with in_process_flows():
        swept = sla_sweep(database_url=SecretStr(sqlite_url))
        proceeded = legal_case_proceed(case_id, database_url=SecretStr(sqlite_url))  # type: ignore[arg-type]
        again = legal_case_proceed(case_id, database_url=SecretStr(sqlite_url))  # type: ignore[arg-type]
    assert swept == {"escalated": 1}
    assert proceeded["demand_letter_id"] is not None
    assert again["demand_letter_id"] is None  # already queued: nothing twice
