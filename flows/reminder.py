"""Reminder stage: queue the day's cadence step (pre-due and early delinquency) for each account."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from prefect import flow

from flows.summary import merge_counts
from overdue.domain.stages import REMINDER
from tasks.cycle_steps import DatabaseUrl, Shard, queue_outreach


@flow(name="reminder-stage", flow_run_name="reminder-{as_of}")
def reminder_stage(database_url: DatabaseUrl, as_of: date, now: datetime, shards: list[Shard]) -> dict[str, Any]:
    return {"outreach": merge_counts(queue_outreach(database_url, REMINDER, as_of, now, shard) for shard in shards)}
