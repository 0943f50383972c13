"""Negotiation stage: make installment offers within bounds, then queue the offer cadence."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from prefect import flow

from flows.summary import merge_counts
from overdue.domain.stages import NEGOTIATION
from tasks.cycle_steps import DatabaseUrl, Shard, make_offers, queue_outreach


@flow(name="negotiation-stage", flow_run_name="negotiation-{as_of}")
def negotiation_stage(database_url: DatabaseUrl, as_of: date, now: datetime, shards: list[Shard]) -> dict[str, Any]:
    offers = merge_counts(make_offers(database_url, as_of, now, shard) for shard in shards)
    outreach = merge_counts(queue_outreach(database_url, NEGOTIATION, as_of, now, shard) for shard in shards)
    return {"offers": offers, "outreach": outreach}
