"""Casework flows: the SLA sweep every few minutes, and an approved legal case's next step on demand.

`legal-case-proceed` has no schedule: a decision triggers it (`run_deployment`, overdue/services/
continuation.py) right after the approval commits; the daily cycle is the safety net for a trigger that
never arrived.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect import flow

from overdue.services.continuation import LEGAL_PROCEED, ON_APPROVAL
from tasks.casework_steps import proceed_legal_case, sweep_sla
from tasks.cycle_steps import DatabaseUrl

__all__ = ["ON_APPROVAL", "legal_case_proceed", "sla_sweep"]


@flow(name="sla-sweep")
def sla_sweep(database_url: DatabaseUrl = None) -> dict[str, Any]:
    """Every open task past its SLA escalates to the supervisor role, once, visibly."""
    return sweep_sla(database_url, datetime.now(UTC))


@flow(name=LEGAL_PROCEED)
def legal_case_proceed(case_id: int, database_url: DatabaseUrl = None) -> dict[str, Any]:
    """The continuation of an approved legal escalation: the demand letter is queued (once)."""
    return {"case_id": case_id, "demand_letter_id": proceed_legal_case(database_url, case_id, datetime.now(UTC))}
