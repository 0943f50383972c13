"""Prefect tasks of the casework flows, each one transaction over the services."""

from __future__ import annotations

from datetime import datetime

from overdue.services import legal
from overdue.services.tasks import sweep_sla as sweep
from tasks.cycle_steps import DatabaseUrl, step, unit_of_work


@step(name="sweep-sla")
def sweep_sla(database_url: DatabaseUrl, now: datetime) -> dict[str, int]:
    with unit_of_work(database_url) as (runtime, session):
        return sweep(session, runtime.config.tasks, now).as_dict()


@step(name="proceed-legal-case", retries=2)
def proceed_legal_case(database_url: DatabaseUrl, case_id: int, now: datetime) -> int | None:
    """Retried: `proceed` is idempotent (a conditional write on the case, a unique key on the letter)."""
    with unit_of_work(database_url) as (runtime, session):
        letter = legal.proceed(session, runtime, case_id, now)
        return letter.id if letter is not None else None
