"""Benchmark portfolios: built once per (accounts, seed) into a template, copied for every measured run.

Every run must start from the same state, and a used database cannot be reset: the audit table is append-only
by trigger. So a run never touches the template; it works on a copy (a file copy on SQLite, `CREATE DATABASE
... TEMPLATE` on PostgreSQL) that is dropped afterwards. Each template carries a stamp (the migration head and a
hash of the portfolio generator's source); a template with another stamp is rebuilt, so a run never measures
yesterday's schema or yesterday's synthetic data.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa
from pydantic import SecretStr
from sqlalchemy.engine import make_url
from sqlmodel import Session, col

from benchmarks import postgres
from benchmarks.classification import stage_expression
from overdue.config import Configuration
from overdue.domain.stages import CLOSED
from overdue.runtime import Runtime, build_runtime
from overdue.services.dispatch import dispatch_due
from overdue.services.shard_cycle import plan_shards, run_next_shard
from overdue.settings import PROJECT_ROOT, Settings, normalize_database_url
from overdue.sim import portfolio as generator
from overdue.sim.portfolio import PortfolioSpec, generate_portfolio
from overdue.store.db import get_engine, refresh_statistics, session_scope
from overdue.store.migrate import head_revision, upgrade
from overdue.store.sealed import new_key
from overdue.store.tables import Account


@dataclass(frozen=True)
class Portfolio:
    """`warmup_days`: daily cycles run on the template after it is generated, so that the measured cycle is
    a day in the life of a portfolio (most accounts waiting for their next step) rather than its first day
    (every account classified and contacted at once)."""

    accounts: int
    seed: int
    start: date
    warmup_days: int = 0

    @property
    def label(self) -> str:
        return f"{self.accounts}_s{self.seed}" + (f"_w{self.warmup_days}" if self.warmup_days else "")

    @property
    def as_of(self) -> date:
        """The measured cycle's business date: the day after the start and the warm-up days."""
        return self.start + timedelta(days=1 + self.warmup_days)


class TemplateStore(Protocol):
    """Where templates live and how they are copied: one implementation per database."""

    database: str  # "sqlite" or "postgresql", with the version

    def stamp(self, portfolio: Portfolio) -> str | None: ...

    def build_target(self, portfolio: Portfolio) -> str: ...

    def publish(self, portfolio: Portfolio, built: str, stamp: str) -> None: ...

    def copy(self, portfolio: Portfolio, role: str) -> str: ...

    def discard(self, url: str) -> None: ...


class SqliteTemplates:
    """Templates as files `portfolio-{N}-s{seed}.db` in a folder; copies under `runs/` beside them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.database = f"sqlite {sqlite3.sqlite_version}"

    def _path(self, portfolio: Portfolio) -> Path:
        return self.folder / f"portfolio-{portfolio.accounts}-s{portfolio.seed}.db"

    def _stamp_path(self, portfolio: Portfolio) -> Path:
        return self._path(portfolio).with_suffix(".stamp")

    def stamp(self, portfolio: Portfolio) -> str | None:
        stamp = self._stamp_path(portfolio)
        return stamp.read_text().strip() if stamp.exists() and self._path(portfolio).exists() else None

    def build_target(self, portfolio: Portfolio) -> str:
        path = self._path(portfolio).with_suffix(".building.db")
        _remove_sqlite(path)
        return f"sqlite:///{path}"

    def publish(self, portfolio: Portfolio, built: str, stamp: str) -> None:
        engine = get_engine(built)
        with engine.begin() as connection:
            connection.execute(sa.text("PRAGMA wal_checkpoint(TRUNCATE)"))
        engine.dispose()  # the last connection closing removes the (now empty) WAL: the .db file is complete
        path = Path(make_url(built).database or "")
        if Path(f"{path}-wal").exists():
            raise RuntimeError(f"{path}-wal is still there after the checkpoint: is another process using {path}?")
        self._stamp_path(portfolio).unlink(missing_ok=True)
        os.replace(path, self._path(portfolio))
        self._stamp_path(portfolio).write_text(stamp + "\n")

    def copy(self, portfolio: Portfolio, role: str) -> str:
        source = self._path(portfolio)
        get_engine(f"sqlite:///{source}").dispose()
        target = self.folder / "runs" / f"{source.stem}-{role}-{uuid.uuid4().hex[:6]}.db"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        return f"sqlite:///{target}"

    def discard(self, url: str) -> None:
        get_engine(url).dispose()
        _remove_sqlite(Path(make_url(url).database or ""))


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


class PostgresTemplates:
    """Templates as databases `{prefix}_{N}_s{seed}` on the server of `url`; copies `{template}_{role}_{hex}`."""

    def __init__(self, url: str, prefix: str) -> None:
        self.url = normalize_database_url(url)
        self.prefix = prefix
        self.database = f"postgresql {postgres.server_version(self.url)}"

    def _name(self, portfolio: Portfolio) -> str:
        return f"{self.prefix}_{portfolio.label}"

    def stamp(self, portfolio: Portfolio) -> str | None:
        return postgres.comment(self.url, self._name(portfolio))

    def build_target(self, portfolio: Portfolio) -> str:
        name = f"{self._name(portfolio)}_building"
        postgres.drop(self.url, name)  # what an interrupted build left
        return postgres.create(self.url, name)

    def publish(self, portfolio: Portfolio, built: str, stamp: str) -> None:
        postgres.drop(self.url, self._name(portfolio))
        postgres.rename(self.url, make_url(built).database or "", self._name(portfolio))
        postgres.set_comment(self.url, self._name(portfolio), stamp)

    def copy(self, portfolio: Portfolio, role: str) -> str:
        template = self._name(portfolio)
        get_engine(postgres.database_url(self.url, template)).dispose()  # a copy needs the template unused
        return postgres.create(self.url, f"{template}_{role}_{uuid.uuid4().hex[:6]}", template=template)

    def discard(self, url: str) -> None:
        postgres.drop(self.url, make_url(url).database or "")


def templates_for(url: str, prefix: str = "overdue_bench") -> TemplateStore:
    """SQLite URLs name a file whose folder holds the templates and copies; any other URL names the server."""
    parsed = make_url(normalize_database_url(url))
    if parsed.get_backend_name() == "sqlite":
        return SqliteTemplates(Path(parsed.database or ".").resolve().parent)
    if parsed.get_backend_name() == "postgresql":
        return PostgresTemplates(url, prefix)
    raise ValueError(f"unsupported database for the benchmark: {parsed.get_backend_name()}")


def data_keys(folder: Path) -> str:
    """OVERDUE_DATA_KEYS when set; otherwise a key kept in `folder`, so that a template built today is sealed
    under the key a run uses tomorrow (PostgreSQL refuses to start without keys)."""
    configured = os.environ.get("OVERDUE_DATA_KEYS")
    if configured:
        return configured
    path = folder / "data.key"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as stream:
            stream.write(new_key() + "\n")
    return path.read_text(encoding="ascii").strip()


def ensure_template(
    store: TemplateStore,
    portfolio: Portfolio,
    keys: str,
    rebuild: bool = False,
    on_chunk: Callable[[int], None] | None = None,
) -> float | None:
    """Reuse the template when its stamp is current; otherwise build it. Returns the seconds the build took,
    or None when the template was reused."""
    stamp = template_stamp(portfolio)
    if not rebuild and store.stamp(portfolio) == stamp:
        return None
    started = time.perf_counter()
    target = store.build_target(portfolio)
    upgrade(target)
    runtime = build_runtime(Settings(database_url=target, data_keys=SecretStr(keys)), target)
    with session_scope(target) as session:
        spec = PortfolioSpec(accounts=portfolio.accounts, seed=portfolio.seed, start=portfolio.start)
        generate_portfolio(session, spec, runtime.vault, on_chunk=on_chunk)
        if portfolio.warmup_days:
            settle_history(session, runtime.config, portfolio.start)
    warm_up(runtime, target, portfolio)
    get_engine(target).dispose()
    store.publish(portfolio, target, stamp)
    return time.perf_counter() - started


def settle_history(session: Session, config: Configuration, day: date) -> None:
    """Put each account where the engine would have it had it run since the account fell due: in the stage its
    days past due on `day` select, entered on the day they reached that stage's `dpd_min`. Without this, every
    account the first warm-up day classifies enters its stage that day, and the measured day sends one cadence
    step to the whole stage at once (all of negotiation its day-2 SMS), which no day of a running portfolio does.
    Warm-up then runs on top of this history; a portfolio measured on its first day (no warm-up) skips it."""
    dialect = session.get_bind().dialect.name
    session.execute(
        sa.update(Account).values(stage=stage_expression(config, dialect, day)).where(col(Account.stage) != CLOSED)
    )
    entered = [
        (
            sa.and_(col(Account.strategy_arm) == arm, col(Account.stage) == rule.name),
            _plus_days(dialect, rule.when.dpd_min),
        )
        for arm, strategy in config.strategies.items()
        for rule in strategy.stages
        if rule.when.dpd_min is not None
    ]
    first = sa.case(*entered, else_=sa.literal(day, sa.Date)) if entered else sa.literal(day, sa.Date)
    latest = sa.func.least if dialect == "postgresql" else sa.func.min
    session.execute(
        sa.update(Account).values(stage_entered_on=latest(first, sa.literal(day, sa.Date)), next_action_on=day)
    )


def _plus_days(dialect: str, days: int) -> Any:
    """The account's due date plus `days`, as a date."""
    if dialect == "postgresql":
        return col(Account.due_date) + days
    return sa.func.date(col(Account.due_date), f"{days:+d} days")


OUTBOX_EVERY_MINUTES = 30  # how often the warm-up days' outbox goes out (the deployment's default is more often)


def warm_up(runtime: Runtime, url: str, portfolio: Portfolio) -> None:
    """The days before the measured one, each shard in its own transaction as the cycle does them (without
    Prefect: only the state they leave matters), then the day's outbox sent as its every-few-minutes deployment
    sends it: the measured day starts with yesterday's messages gone out and in the contact history, not with
    every warm-up message still waiting for the cycle's own dispatch."""
    for day in range(1, portfolio.warmup_days + 1):
        as_of = portfolio.start + timedelta(days=day)
        now = datetime.combine(as_of, datetime.min.time(), tzinfo=UTC)
        with session_scope(url) as session:
            plan_shards(session, as_of, runtime.settings.shard_size)
        while True:  # claimed and marked done as the cycle's tasks do: the measured day rolls these days up
            with session_scope(url) as session:
                if run_next_shard(session, runtime, as_of, now, "warm-up") is None:
                    break
        for tick in range(0, 24 * 60, OUTBOX_EVERY_MINUTES):  # sent when due, inside its window, not at midnight
            at = now + timedelta(minutes=tick)
            with session_scope(url) as session:
                while dispatch_due(session, runtime.config, runtime.channel, at).handled:
                    pass
        with session_scope(url) as session:
            refresh_statistics(session)  # as after any day's bulk changes: the measured day plans on true figures


def template_stamp(portfolio: Portfolio) -> str:
    """What a template must have been built with to be reused: the schema's migration head, the portfolio
    generator's source and, when cycles warmed it up, the source of what they ran (services, rules, configs)."""
    source = hashlib.sha256(inspect.getsource(generator).encode()).hexdigest()[:12]
    stamp = f"schema {head_revision()}, generator {source}"
    if portfolio.warmup_days:
        history_source = inspect.getsource(settle_history) + inspect.getsource(warm_up)
        history = hashlib.sha256(history_source.encode()).hexdigest()[:12]
        stamp += f", history {history}, cycle {_cycle_source_hash()}"
    return stamp


def _cycle_source_hash() -> str:
    digest = hashlib.sha256()
    for folder in ("overdue/services", "overdue/domain", "overdue/channels", "configs"):
        for path in sorted((PROJECT_ROOT / folder).rglob("*")):
            if path.is_file() and path.suffix in (".py", ".yaml", ".j2"):
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]
