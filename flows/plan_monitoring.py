"""Plan monitoring: judge active plans (kept / broken after grace) and remind of installments due."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from prefect import flow

from flows.summary import merge_counts
from overdue.domain.stages import PLAN
from tasks.cycle_steps import DatabaseUrl, Shard, monitor_plans, queue_outreach


@flow(name="plan-monitoring", flow_run_name="plan-monitoring-{as_of}")
def plan_monitoring(database_url: DatabaseUrl, as_of: date, now: datetime, shards: list[Shard]) -> dict[str, Any]:
    plans = merge_counts(monitor_plans(database_url, as_of, now, shard) for shard in shards)
    outreach = merge_counts(queue_outreach(database_url, PLAN, as_of, now, shard) for shard in shards)
    return {"plans": plans, "outreach": outreach}
