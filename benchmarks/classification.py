"""The classification's state change three ways, for the cycle benchmark's "within 3x of a set-based floor".

- `run_floor`: hand-written set-based SQL over the whole table at once, generated from the loaded strategies
  (each arm's ordered stages, each an AND of conditions), in one transaction: each open account's `dpd` recomputed
  from `due_date`, its stage moved (with `stage_entered_on` / `next_action_on` set to the business date), the
  `stage.changed` / `account.resolved` audit rows, and queued messages of accounts that became current or
  closed cancelled with their `message.cancelled` rows: what `overdue.services.cycle.classify_accounts` does.
- `run_classification`: that service itself over all the cycle's shards, one transaction per shard, in
  process and without Prefect: the cycle's own classification step, isolated.
- `stage_state`: what both must agree on (and the full cycle too), so a ratio is never between two pieces of
  work that do different things.
"""

from __future__ import annotations

import time
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import SecretStr
from sqlmodel import col

from overdue.config import Configuration
from overdue.domain.stages import CLOSED, CURRENT, LEGAL, PLAN
from overdue.runtime import build_runtime
from overdue.services.audit import SYSTEM
from overdue.services.condition_sql import BALANCE, condition_clause
from overdue.services.cycle import classify_accounts
from overdue.settings import Settings
from overdue.store.bulk import account_shards
from overdue.store.db import get_engine, session_scope
from overdue.store.tables import Account, AuditEvent, OutreachMessage, PaymentPlan, UTCDateTime

STAGE_KINDS = ("stage.changed", "account.resolved", "account.reopened")  # written by overdue.services.audit
QUIET = (CLOSED, CURRENT)  # moving into these cancels queued messages (classify_accounts -> cancel_queued)


def _dpd(dialect: str, as_of: date) -> sa.ColumnElement[int]:
    if dialect == "postgresql":
        return sa.type_coerce(sa.cast(sa.literal(as_of.isoformat()), sa.Date) - col(Account.due_date), sa.Integer)
    days = sa.func.julianday(as_of.isoformat()) - sa.func.julianday(col(Account.due_date))
    return sa.cast(days, sa.Integer)


def stage_expression(config: Configuration, dialect: str, as_of: date) -> sa.ColumnElement[str]:
    """The facts first (nothing owed closes, legal and an active plan are sticky), then the stages of the
    account's strategy (its champion/challenger arm) in order: the first whose conditions all match wins, as
    overdue.domain.stages.classify does."""
    dpd = _dpd(dialect, as_of)
    active_plan = sa.exists().where(col(PaymentPlan.account_id) == col(Account.id), col(PaymentPlan.status) == "active")
    whens: list[tuple[sa.ColumnElement[bool], str]] = [
        (BALANCE <= 0, CLOSED),
        (col(Account.stage) == LEGAL, LEGAL),
        (active_plan, PLAN),
    ]
    for arm, strategy in sorted(config.strategies.items()):  # each account follows its arm's strategy
        on_arm = col(Account.strategy_arm) == arm
        whens += [(sa.and_(on_arm, condition_clause(rule.when, dpd)), rule.name) for rule in strategy.stages]
    return sa.case(*whens, else_=sa.literal(CURRENT))


def _moves_table(dialect: str) -> sa.Table:
    """Every open account's old and new stage and dpd, computed once. On SQLite the id is the rowid, so
    lookups by id are free; on PostgreSQL joins hash it, and an index would only cost time."""
    return sa.Table(
        "bench_moves",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=dialect == "sqlite", autoincrement=False),
        sa.Column("old_stage", sa.String),
        sa.Column("new_stage", sa.String),
        sa.Column("dpd", sa.Integer),
        sa.Column("old_dpd", sa.Integer),
        prefixes=["TEMPORARY"],
    )


def run_floor(url: str, config: Configuration, as_of: date, now: datetime) -> float:
    """The state change as set-based SQL, timed from the first statement to the commit."""
    engine = get_engine(url)
    dialect = engine.dialect.name
    json_object = sa.func.json_build_object if dialect == "postgresql" else sa.func.json_object
    moves = _moves_table(dialect)
    new_stage = stage_expression(config, dialect, as_of)
    dpd = _dpd(dialect, as_of)
    at, actor = sa.literal(now, UTCDateTime()), sa.literal(SYSTEM)
    changed = moves.c.new_stage != moves.c.old_stage
    quieted = sa.and_(changed, moves.c.new_stage.in_(QUIET))
    reason = sa.literal("account is ") + moves.c.new_stage
    audit_columns = ["ts", "account_id", "actor", "kind", "data"]
    message = OutreachMessage.__table__  # type: ignore[attr-defined]
    with engine.connect() as connection:
        started = time.perf_counter()
        with connection.begin():
            moves.create(connection)
            connection.execute(
                moves.insert().from_select(
                    ["id", "old_stage", "new_stage", "dpd", "old_dpd"],
                    sa.select(col(Account.id), col(Account.stage), new_stage, dpd, col(Account.dpd)).where(
                        col(Account.stage) != CLOSED
                    ),
                )
            )
            if dialect == "postgresql":
                connection.execute(sa.text("ANALYZE bench_moves"))
            cancelling = sa.select(moves.c.id).where(moves.c.id == message.c.account_id, quieted)
            connection.execute(
                sa.insert(AuditEvent).from_select(
                    audit_columns,
                    sa.select(
                        at,
                        message.c.account_id,
                        actor,
                        sa.literal("message.cancelled"),
                        json_object("count", sa.func.count(), "reason", reason),
                    )
                    .select_from(message.join(moves, moves.c.id == message.c.account_id))
                    .where(message.c.status == "queued", quieted)
                    .group_by(message.c.account_id, moves.c.new_stage),
                )
            )
            connection.execute(
                sa.update(message)
                .where(message.c.status == "queued", cancelling.exists())
                .values(
                    status="cancelled",
                    error=sa.select(reason).where(moves.c.id == message.c.account_id).scalar_subquery(),
                )
            )
            stage_changed = sa.select(
                at,
                moves.c.id,
                actor,
                sa.literal("stage.changed"),
                json_object("from", moves.c.old_stage, "to", moves.c.new_stage, "dpd", moves.c.dpd),
            ).where(changed)
            resolved = sa.select(
                at,
                moves.c.id,
                actor,
                sa.literal("account.resolved"),
                json_object("stage_before", moves.c.old_stage),
            ).where(changed, moves.c.new_stage == CLOSED)  # never reopened: closed accounts are not classified
            connection.execute(sa.insert(AuditEvent).from_select(audit_columns, sa.union_all(stage_changed, resolved)))
            today = sa.literal(as_of, sa.Date)
            connection.execute(
                sa.update(Account.__table__)  # type: ignore[attr-defined]
                .where(col(Account.id) == moves.c.id, sa.or_(changed, moves.c.dpd != moves.c.old_dpd))
                .values(
                    dpd=moves.c.dpd,
                    stage=moves.c.new_stage,
                    stage_entered_on=sa.case((changed, today), else_=col(Account.stage_entered_on)),
                    next_action_on=sa.case((changed, today), else_=col(Account.next_action_on)),
                )
            )
            moves.drop(connection)
        return time.perf_counter() - started


def run_classification(url: str, keys: str, as_of: date, now: datetime) -> float:
    """The cycle's classification step alone: `classify_accounts` over every shard, one transaction each,
    with the shards and runtime the cycle's task would use."""
    runtime = build_runtime(Settings(database_url=url, data_keys=SecretStr(keys)), url)
    with session_scope(url) as session:
        shards = account_shards(session, runtime.settings.shard_size)
    started = time.perf_counter()
    for shard in shards:
        with session_scope(url) as session:
            classify_accounts(session, runtime.config, as_of, now, shard)
    return time.perf_counter() - started


def stage_state(url: str, as_of: date) -> dict[str, Any]:
    """Per stage: accounts, the sum of their dpd and how many entered it on `as_of`; and the count of each
    stage-change audit kind. Later steps of the cycle change none of these."""
    entered_today = sa.func.sum(sa.case((col(Account.stage_entered_on) == as_of, 1), else_=0))
    with get_engine(url).connect() as connection:
        stages = connection.execute(
            sa.select(col(Account.stage), sa.func.count(), sa.func.sum(col(Account.dpd)), entered_today)
            .group_by(col(Account.stage))
            .order_by(col(Account.stage))
        ).all()
        audits = connection.execute(
            sa.select(col(AuditEvent.kind), sa.func.count())
            .where(col(AuditEvent.kind).in_(STAGE_KINDS))
            .group_by(col(AuditEvent.kind))
            .order_by(col(AuditEvent.kind))
        ).all()
    return {
        "stages": {
            stage: {"accounts": n, "dpd_sum": int(dpd or 0), "entered_today": int(e or 0)}
            for stage, n, dpd, e in stages
        },
        "audit": {kind: int(n) for kind, n in audits},
    }
