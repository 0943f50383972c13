"""Legal escalation: accounts meeting the criteria get an approval task. Only a person escalates."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from prefect import flow

from tasks.cycle_steps import DatabaseUrl, Shard, propose_escalations


@flow(name="legal-escalation", flow_run_name="legal-escalation-{as_of}")
def legal_escalation(database_url: DatabaseUrl, as_of: date, now: datetime, shards: list[Shard]) -> dict[str, Any]:
    return {"approval_tasks_opened": sum(propose_escalations(database_url, as_of, now, shard) for shard in shards)}
