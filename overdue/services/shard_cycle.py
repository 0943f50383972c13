"""The daily cycle's work for one shard of accounts, every step in order, in one transaction.

One Prefect task per shard (not per step, not per account) keeps a million-account cycle under two hundred
task runs, and one transaction per shard means a crash leaves each shard either done or untouched: every
step is idempotent for a business date, so a rerun finishes the job without doing anything twice.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from overdue.domain.stages import NEGOTIATION, PLAN, REMINDER
from overdue.runtime import Runtime
from overdue.services import accrual, cycle, legal, negotiation, outreach, pauses, plans
from overdue.store.bulk import account_shards, insert_ignoring_conflicts
from overdue.store.db import refresh_statistics
from overdue.store.tables import CycleShard


def run_shard(session: Session, runtime: Runtime, as_of: date, now: datetime, shard: tuple[int, int]) -> dict[str, Any]:
    """Plans are judged first (a broken plan changes the stage), then the accounts are classified, offers made,
    and every stage's messages planned in one pass. Returns counts per step, in the shape the cycle summary
    adds up."""
    config = runtime.config
    pauses.cancel_while_paused(session, as_of, now, shard)  # nothing goes out while paused
    accrued = accrual.accrue(session, config, as_of, shard)  # first: today's messages state today's balance
    judged = plans.monitor_plans(session, config, as_of, now, shard).as_dict()
    changes = cycle.classify_accounts(session, config, as_of, now, shard).as_dict()
    offers = negotiation.make_offers(session, config, as_of, now, shard).as_dict()
    queued = outreach.plan_outreach(
        session, config, runtime.renderer, runtime.sender, (PLAN, REMINDER, NEGOTIATION), as_of, now, shard
    )
    summary: dict[str, Any] = {"plan_monitoring": {"plans": judged, "outreach": queued[PLAN].as_dict()}}
    summary["accrual"] = {"accounts": accrued}
    summary["stages"] = changes
    summary["reminder"] = {"outreach": queued[REMINDER].as_dict()}
    summary["negotiation"] = {"offers": offers, "outreach": queued[NEGOTIATION].as_dict()}
    summary["legal"] = {
        "approval_tasks_opened": cycle.propose_escalations(session, config, as_of, now, shard),
        "cases_proceeded": legal.proceed_pending(session, runtime, now, shard),  # continuations lost on approval
    }
    return summary


def plan_shards(session: Session, as_of: date, shard_size: int) -> list[tuple[int, int]]:
    """The date's shards, planned by the first worker to ask and read back by every other (a rerun of the
    date finds them planned, with the done ones marked). Planning a date refreshes the planner's statistics
    first: yesterday's cycle changed stages, offers and messages by the hundred thousand."""
    planned = _planned(session, as_of)
    if not planned:
        refresh_statistics(session, changed_only=True)
        rows = [
            {"as_of": as_of, "low": low, "high": high, "status": "pending"}
            for low, high in account_shards(session, shard_size)
        ]
        insert_ignoring_conflicts(session, CycleShard, rows, ["as_of", "low"])
        planned = _planned(session, as_of)
    return planned


def _planned(session: Session, as_of: date) -> list[tuple[int, int]]:
    query = sa.select(col(CycleShard.low), col(CycleShard.high)).where(col(CycleShard.as_of) == as_of)
    return [(low, high) for low, high in session.execute(query.order_by(col(CycleShard.low)))]


def run_next_shard(
    session: Session, runtime: Runtime, as_of: date, now: datetime, worker: str
) -> tuple[tuple[int, int], dict[str, Any]] | None:
    """Claim the next shard nobody has done or is doing, do it, and mark it done, all in the caller's one
    transaction: a crash undoes the work and the claim together, so the shard is simply claimed again.
    None when every shard of the date is done or being done."""
    claimed = _claim(session, as_of, worker)
    if claimed is None:
        return None
    shard = (claimed.low, claimed.high)
    result = run_shard(session, runtime, as_of, now, shard)
    claimed.status, claimed.worker = "done", worker
    session.add(claimed)
    return shard, result


def _claim(session: Session, as_of: date, worker: str) -> CycleShard | None:
    pending = sa.select(CycleShard).where(col(CycleShard.as_of) == as_of, col(CycleShard.status) == "pending")
    if session.get_bind().dialect.name == "postgresql":
        # A row another worker holds is skipped, not waited for: workers spread over the shards.
        return session.scalars(pending.order_by(col(CycleShard.low)).limit(1).with_for_update(skip_locked=True)).first()
    # SQLite has one writer at a time: taking the write lock with the claim serialises workers, and a second
    # worker sees the first one's shards as done once it gets the lock.
    first = sa.select(col(CycleShard.id)).where(col(CycleShard.as_of) == as_of, col(CycleShard.status) == "pending")
    session.execute(
        sa.update(CycleShard)
        .where(col(CycleShard.id) == first.order_by(col(CycleShard.low)).limit(1).scalar_subquery())
        .values(worker=worker)
        .execution_options(synchronize_session=False)
    )
    return session.scalars(pending.where(col(CycleShard.worker) == worker).order_by(col(CycleShard.low))).first()
