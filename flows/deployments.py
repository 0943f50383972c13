"""The served deployments: the daily cycle on its cron in the portfolio's time zone, the outbox and the SLA
sweep every few minutes, housekeeping once a day, and the legal case continuation an approval starts.
`overdue serve` runs them against the Prefect server in PREFECT_API_URL (`make up` starts one)."""

from __future__ import annotations

from datetime import timedelta

from prefect import serve
from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron, Interval

from flows.casework import ON_APPROVAL, legal_case_proceed, sla_sweep
from flows.daily_cycle import daily_cycle
from flows.housekeeping import housekeeping
from flows.outbox import outbox_dispatch
from overdue.config import load_configuration
from overdue.settings import Settings

HOUSEKEEPING_CRON = "30 4 * * *"  # after a night's cycle, before the working day


def deployments(settings: Settings) -> list[RunnerDeployment]:
    zone = settings.portfolio_time_zone
    sweep_minutes = load_configuration(settings.config_dir, settings.strategy).tasks.sweep_every_minutes
    made = [
        daily_cycle.to_deployment(
            name="daily",
            schedules=[Cron(settings.cycle_cron, timezone=zone)],
            tags=["overdue", "daily-cycle"],
            description=f"The daily cycle at '{settings.cycle_cron}' ({zone}) for that business date.",
        ),
        outbox_dispatch.to_deployment(
            name="every-few-minutes",
            schedules=[Interval(timedelta(minutes=settings.dispatch_every_minutes), timezone=zone)],
            tags=["overdue", "outbox"],
            description="Sends what has come due inside its contact window.",
        ),
        sla_sweep.to_deployment(
            name="every-few-minutes",
            schedules=[Interval(timedelta(minutes=sweep_minutes), timezone=zone)],
            tags=["overdue", "tasks"],
            description="Escalates every open human task past its SLA to a supervisor (configs/tasks.yaml).",
        ),
        housekeeping.to_deployment(
            name="daily",
            schedules=[Cron(HOUSEKEEPING_CRON, timezone=zone)],
            tags=["overdue", "housekeeping"],
            description="Prunes webhook receipts and errors and ended sign-ins past their retention (never audit).",
        ),
        legal_case_proceed.to_deployment(
            name=ON_APPROVAL,
            tags=["overdue", "legal"],
            description="Started by an approval of legal escalation: queues the case's demand letter.",
        ),
    ]
    for deployment in made:  # called outside an event loop, Prefect's sync/async helper returns the value
        if not isinstance(deployment, RunnerDeployment):
            raise TypeError(f"expected a deployment, got {deployment!r}")
    return [deployment for deployment in made if isinstance(deployment, RunnerDeployment)]


def serve_deployments(settings: Settings) -> None:
    serve(*deployments(settings), print_starting_message=True)
