"""Prefect task of the housekeeping flow: one transaction over overdue/services/retention.py."""

from __future__ import annotations

from datetime import datetime

from overdue.services.retention import prune
from tasks.cycle_steps import DatabaseUrl, step, unit_of_work


@step(name="prune-operational-records")
def prune_records(database_url: DatabaseUrl, now: datetime) -> dict[str, int]:
    with unit_of_work(database_url) as (runtime, session):
        return prune(session, now, runtime.settings.operational_records_keep_days)
