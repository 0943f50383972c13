"""The daily cycle's work for one shard of accounts, every step in order, in one transaction.

One Prefect task per shard (not per step, not per account) keeps a million-account cycle under two hundred
task runs, and one transaction per shard means a crash leaves each shard either done or untouched: every
step is idempotent for a business date, so a rerun finishes the job without doing anything twice.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from overdue.domain.stages import NEGOTIATION, PLAN, REMINDER
from overdue.runtime import Runtime
from overdue.services import cycle, outreach


def run_shard(session: Session, runtime: Runtime, as_of: date, now: datetime, shard: tuple[int, int]) -> dict[str, Any]:
    """Plans are judged first (a broken plan changes the stage), then the accounts are classified, and each
    stage does its work. Returns counts per step, in the shape the cycle summary adds up."""
    config = runtime.config

    def queue(stage: str) -> dict[str, Any]:
        return outreach.plan_outreach(
            session, config, runtime.renderer, runtime.sender, stage, as_of, now, shard
        ).as_dict()

    plans = cycle.monitor_plans(session, config, as_of, now, shard).as_dict()
    summary: dict[str, Any] = {"plan_monitoring": {"plans": plans, "outreach": queue(PLAN)}}
    summary["stages"] = cycle.classify_accounts(session, config, as_of, now, shard).as_dict()
    summary["reminder"] = {"outreach": queue(REMINDER)}
    offers = cycle.make_offers(session, config, as_of, now, shard).as_dict()
    summary["negotiation"] = {"offers": offers, "outreach": queue(NEGOTIATION)}
    summary["legal"] = {"approval_tasks_opened": cycle.propose_escalations(session, config, as_of, now, shard)}
    return summary
