"""The cycle benchmark measures what it says: the whole harness on a tiny portfolio, and its set-based floor
doing exactly the classification's state change, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlmodel import col
from typer.testing import CliRunner

from benchmarks import postgres
from benchmarks.classification import run_classification, run_floor, stage_state
from benchmarks.cycle import START
from benchmarks.portfolios import Portfolio, ensure_template, templates_for
from overdue.cli import app
from overdue.config.models import Amounts, Condition, StageRule
from overdue.domain.stages import AccountFacts, classify
from overdue.runtime import Runtime
from overdue.store.db import get_engine, session_scope
from overdue.store.tables import Account, AuditEvent, OutreachMessage, PaymentPlan
from tests.support import add_account, midnight, run_day

ROLES = ("cycle", "floor", "classify", "naive")
AS_OF = START + timedelta(days=1)  # the measured day without warm-up


@pytest.fixture
def template_prefix(database_url: str) -> Iterator[str]:
    """A name prefix of our own on the shared server, and every database under it dropped afterwards."""
    prefix = f"overdue_bench_t{uuid.uuid4().hex[:8]}"
    yield prefix
    if make_url(database_url).get_backend_name() == "postgresql":
        for name in postgres.databases(database_url, prefix):
            postgres.drop(database_url, name)


def stage_counts(url: str) -> dict[str, int]:
    with get_engine(url).connect() as connection:
        rows = connection.execute(sa.select(col(Account.stage), sa.func.count()).group_by(col(Account.stage)))
        return {str(stage): int(count) for stage, count in rows}


@pytest.mark.slow
def test_bench_cycle_measures_the_cycle_floor_and_naive_design(
    database_url: str, template_prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))  # the measured processes' temporary server
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    args = ["bench", "cycle", "--accounts", "300", "--naive-accounts", "3", "--json", "--keep"]
    args += ["--database-url", database_url, "--template-prefix", template_prefix]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output + repr(result.exception)
    figures: dict[str, Any] = json.loads(result.stdout)

    dialect = make_url(database_url).get_backend_name()
    assert figures["accounts"] == 300
    assert figures["database"].startswith(f"{dialect} ")
    assert figures["wall_s"] > 0
    assert figures["accounts_per_s"] == pytest.approx(300 / figures["wall_s"], abs=1)
    assert figures["peak_rss_mb"] >= figures["baseline_rss_mb"] > 50
    assert 0 < figures["prefect_task_runs"] <= 200
    assert figures["prefect_counts_settled"]
    assert figures["floor_s"] > 0
    assert figures["classify_s"] > 0
    assert figures["ratio_to_floor"] == pytest.approx(figures["wall_s"] / figures["floor_s"], rel=0.05)
    assert figures["naive_accounts"] == 3
    assert figures["naive_s_per_account"] > 0
    assert figures["speedup_vs_naive"] > 0
    assert figures["floor_matches_cycle"]
    assert figures["classify_matches_floor"]
    assert set(figures["targets"]) == {
        "accounts_per_s",
        "peak_rss_mb",
        "prefect_task_runs",
        "ratio_to_floor",
        "speedup_vs_naive",
    }
    assert figures["template"]["built_now"]

    # Read the kept copies directly: the floor made the same stage change as the cycle, and a real one.
    kept = {role: next(url for url in figures["kept"] if f"_{role}_" in url or f"-{role}-" in url) for role in ROLES}
    cycle, floor = stage_counts(kept["cycle"]), stage_counts(kept["floor"])
    assert cycle == floor
    assert sum(cycle.values()) == 300
    assert len(cycle) > 1  # the template's accounts are all `current`
    assert figures["stage_changes"] == 300 - cycle.get("current", 0) > 0
    # The naive design did one account's day for each of its three flow runs, and nothing else.
    with get_engine(kept["naive"]).connect() as connection:
        rows = connection.execute(sa.select(col(Account.due_date), col(Account.dpd))).all()
    aged = sum(1 for due, dpd in rows if dpd == (AS_OF - due).days)
    untouched = sum(1 for due, dpd in rows if dpd == (START - due).days)
    assert (aged, untouched) == (3, 297)
    for url in kept.values():
        get_engine(url).dispose()


def copy_of(url: str, tmp_path: Path, role: str) -> str:
    """An identical second database (ids and all)."""
    get_engine(url).dispose()
    if make_url(url).get_backend_name() == "sqlite":
        target = tmp_path / f"{role}.db"
        shutil.copyfile(make_url(url).database or "", target)
        return f"sqlite:///{target}"
    source = make_url(url).database or ""
    return postgres.create(url, f"{source}_{role}", template=source)


@pytest.fixture
def twin(database_url: str, tmp_path: Path) -> Iterator[list[str]]:
    """Copies of the test's database made during the test, dropped afterwards."""
    made: list[str] = []
    yield made
    for url in made:
        get_engine(url).dispose()
        if make_url(url).get_backend_name() == "postgresql":
            postgres.drop(database_url, make_url(url).database or "")


def audit_rows(url: str) -> set[tuple[Any, ...]]:
    kinds = ("stage.changed", "account.resolved", "account.reopened", "message.cancelled")
    with session_scope(url) as session:
        rows = session.execute(
            sa.select(
                col(AuditEvent.account_id),
                col(AuditEvent.kind),
                col(AuditEvent.actor),
                col(AuditEvent.ts),
                col(AuditEvent.data),
            ).where(col(AuditEvent.kind).in_(kinds))
        ).all()
    return {(account, kind, actor, ts, json.dumps(data, sort_keys=True)) for account, kind, actor, ts, data in rows}


def messages(url: str) -> set[tuple[Any, ...]]:
    """Every message's status and error (the reason a cancelled one gives)."""
    with session_scope(url) as session:
        query = sa.select(col(OutreachMessage.id), col(OutreachMessage.status), col(OutreachMessage.error))
        return set(session.execute(query).tuples().all())


def test_floor_makes_the_classifications_state_change(runtime: Runtime, tmp_path: Path, twin: list[str]) -> None:
    """Cancelled messages, a resolved account, sticky legal and plan stages, a stage crossed and one kept:
    the floor and classify_accounts leave identical rows behind, audit included."""
    day = date(2026, 3, 10)
    url = runtime.database_url
    with session_scope(url) as session:
        ids = {
            name: add_account(session, name, due_date=day - timedelta(days=late)).id
            for name, late in (("quiet", 5), ("paid", 2), ("stay", 9), ("cross", 30), ("legal", 100), ("plan", 4))
        }
        run_day(session, runtime, day)  # classified, messages queued
    queued = messages(url)
    assert any(status == "queued" for _, status, _ in queued)
    with session_scope(url) as session:
        session.execute(sa.update(Account).where(col(Account.id) == ids["quiet"]).values(due_date=day + timedelta(30)))
        session.execute(
            sa.update(Account)
            .where(col(Account.id) == ids["paid"])
            .values(principal_minor=0, interest_minor=0, fees_minor=0)
        )
        session.execute(sa.update(Account).where(col(Account.id) == ids["legal"]).values(stage="legal"))
        session.add(PaymentPlan(account_id=ids["plan"] or 0, total_minor=1000, grace_days=5, created_on=day))
    twin.append(copy_of(url, tmp_path, "classify"))
    next_day = day + timedelta(days=1)
    run_floor(url, runtime.config, next_day, midnight(next_day))
    run_classification(twin[0], os.environ["OVERDUE_DATA_KEYS"], next_day, midnight(next_day))

    assert stage_state(url, next_day) == stage_state(twin[0], next_day)
    assert audit_rows(url) == audit_rows(twin[0])
    assert messages(url) == messages(twin[0]) != queued
    assert accounts(url) == accounts(twin[0])
    assert {ref: stage for ref, stage, *_ in accounts(url)} == {
        "A-quiet": "current",
        "A-paid": "closed",
        "A-stay": "reminder",
        "A-cross": "negotiation",
        "A-legal": "legal",
        "A-plan": "plan",
    }


def accounts(url: str) -> set[tuple[Any, ...]]:
    columns = (Account.external_ref, Account.stage, Account.dpd, Account.stage_entered_on, Account.next_action_on)
    with session_scope(url) as session:
        return set(session.execute(sa.select(*(col(column) for column in columns))).tuples().all())


def test_floor_reads_every_kind_of_condition_in_each_arm(runtime: Runtime) -> None:
    """A strategy with every condition kind (dpd range, balance per currency, broken plans, stage_in), ordered,
    beside the default one as a challenger arm: each account ends where overdue.domain.stages.classify puts it
    under its own arm's strategy."""
    stages = (
        StageRule(name="severe", when=Condition(dpd_min=60, balance_min=Amounts.model_validate({"USD": "500.00"}))),
        StageRule(name="relapse", when=Condition(broken_plans_min=1, stage_in=("negotiation", "reminder"))),
        StageRule(name="window", when=Condition(dpd_min=-3, dpd_max=10)),
        StageRule(name="unpriced", when=Condition(balance_min=Amounts(minor={}))),
        StageRule(name="late", when=Condition(dpd_min=11)),
    )
    arms = {"default": runtime.config.strategy.model_copy(update={"stages": stages}), "b": runtime.config.strategy}
    config = dataclasses.replace(runtime.config, strategy=arms["default"], strategies=arms)
    day = date(2026, 3, 10)
    expected: dict[int, str] = {}
    with session_scope(runtime.database_url) as session:
        n = 0
        for late in (-10, -4, -3, 0, 10, 11, 30, 31, 59, 60, 200):
            for currency, principal in (("USD", 40_000), ("USD", 60_000), ("CNY", 60_000), ("USD", 0)):
                for broken, stage in ((0, "current"), (1, "reminder"), (2, "current"), (0, "legal")):
                    for arm in arms:
                        n += 1
                        account = add_account(
                            session,
                            f"{n}",
                            due_date=day - timedelta(days=late),
                            principal_minor=principal,
                            interest_minor=0,
                            fees_minor=0,
                            currency=currency,
                        )
                        account.broken_plans, account.stage, account.strategy_arm = broken, stage, arm
                        session.add(account)
                        facts = AccountFacts(stage, late, principal, currency, broken)
                        expected[account.id] = classify(facts, arms[arm])  # type: ignore[index]
    run_floor(runtime.database_url, config, day, midnight(day))
    with session_scope(runtime.database_url) as session:
        actual = dict(session.execute(sa.select(col(Account.id), col(Account.stage))).tuples().all())
    assert actual == expected
    assert set(expected.values()) == {
        "severe",
        "relapse",
        "window",
        "late",
        "legal",
        "closed",
        "current",
        "reminder",
        "negotiation",
    }


def test_warm_up_days_run_the_cycle_into_the_template(database_url: str, template_prefix: str) -> None:
    """`--warmup-days 2`: the template is the portfolio after two daily cycles, and the measured day is the third."""
    store = templates_for(database_url, template_prefix)
    warmed = Portfolio(200, 7, START, warmup_days=2)
    keys = os.environ["OVERDUE_DATA_KEYS"]
    assert ensure_template(store, warmed, keys) is not None
    assert ensure_template(store, warmed, keys) is None  # reused: the stamp names the cycle's source too
    assert warmed.as_of == START + timedelta(days=3)
    url = store.copy(warmed, "check")
    try:
        stages = stage_counts(url)
        assert sum(stages.values()) == 200
        assert len(stages) > 1  # the cycles moved accounts out of `current`
        with session_scope(url) as session:
            done = session.execute(sa.text("SELECT as_of, count(*) FROM cycleshard GROUP BY as_of")).all()
            statuses = dict(
                session.execute(
                    sa.select(col(OutreachMessage.status), sa.func.count()).group_by(col(OutreachMessage.status))
                )
                .tuples()
                .all()
            )
            due = session.scalar(
                sa.select(sa.func.count()).where(
                    col(OutreachMessage.status) == "queued", col(OutreachMessage.send_at) < midnight(warmed.as_of)
                )
            )
            entered = session.execute(
                sa.select(col(Account.due_date), col(Account.stage_entered_on)).where(
                    col(Account.stage) == "negotiation"
                )
            ).all()
        assert sorted(str(day) for day, _ in done) == [str(START + timedelta(days=1)), str(START + timedelta(days=2))]
        assert statuses.get("sent")  # each warm-up day's outbox went out as its deployment sends it
        assert due == 0  # nothing from the warm-up days left for the measured day's dispatch
        # the history: an account entered negotiation when it reached 31 days past due, not all on the first day
        assert entered
        assert all(on == min(due_date + timedelta(days=31), START) for due_date, on in entered if on <= START)
        assert len({on for _, on in entered}) > 5
    finally:
        store.discard(url)
