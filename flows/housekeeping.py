"""Housekeeping once a day: operational records past their retention are pruned (never audit events)."""

from __future__ import annotations

from datetime import UTC, datetime

from prefect import flow

from tasks.cycle_steps import DatabaseUrl
from tasks.housekeeping_steps import prune_records


@flow(name="housekeeping")
def housekeeping(database_url: DatabaseUrl = None) -> dict[str, int]:
    """Webhook receipts and errors, and ended dashboard sign-ins, older than OVERDUE_OPERATIONAL_RECORDS_KEEP_DAYS."""
    return prune_records(database_url, datetime.now(UTC))
