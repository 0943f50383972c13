"""Run a synthetic portfolio through the real daily cycle, day by day, with simulated customers.

Each simulated day: the daily cycle's steps run at 00:00 UTC (the same Prefect tasks as the daily-cycle flow,
as task runs of one `simulation` flow run), the outbox dispatcher runs every three hours (as a scheduled
dispatcher would), and simulated customers and ops staff react.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from time import perf_counter, process_time

from prefect import flow
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
from pydantic import SecretStr
from sqlmodel import col, select

from flows.daily_cycle import cycle_day
from flows.runners import cycle_task_runner
from overdue.config.models import Experiment
from overdue.runtime import Runtime
from overdue.services.dispatch import dispatch_due
from overdue.services.rollups import roll_up_ended_days
from overdue.sim.behaviour import BehaviourModel, load_behaviour, simulate_day
from overdue.sim.portfolio import PortfolioSpec, generate_portfolio
from overdue.store.db import session_scope
from overdue.store.tables import Account

DISPATCH_HOURS = (3, 6, 9, 12, 15, 18, 21)


@dataclass
class SimulationResult:
    accounts: int
    days: int
    collected_minor: dict[str, int] = field(default_factory=dict)
    payments: int = 0
    offers_accepted: int = 0
    tasks_decided: int = 0
    seconds: dict[str, float] = field(default_factory=dict)  # wall time per phase: where a slow run spent it
    cpu_seconds: dict[str, float] = field(default_factory=dict)  # this process's CPU time per phase

    @contextmanager
    def timed(self, phase: str) -> Iterator[None]:
        started, cpu_started = perf_counter(), process_time()
        try:
            yield
        finally:
            self.seconds[phase] = self.seconds.get(phase, 0.0) + perf_counter() - started
            self.cpu_seconds[phase] = self.cpu_seconds.get(phase, 0.0) + process_time() - cpu_started


@contextmanager
def in_process_flows() -> Iterator[None]:
    """No heartbeat thread for flows called in-process: it costs ~1 s per flow run. Deployed runs keep it."""
    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


def run_simulation(
    runtime: Runtime,
    accounts: int,
    days: int,
    seed: int,
    start: date,
    model: BehaviourModel | None = None,
    on_day: Callable[[date], None] | None = None,
    champion: str | None = None,
    experiment: Experiment | None = None,
) -> SimulationResult:
    """`champion` and `experiment` override the configured arms for the generated portfolio (an
    `overdue simulate --strategy A --challenger B --share 0.2` run); the cycle follows each account's arm."""
    model = model or load_behaviour(runtime.settings.config_dir / "simulation.yaml")
    champion = champion or runtime.config.strategy.name
    experiment = experiment or runtime.config.experiment
    for arm in (champion, *(c.strategy for c in experiment.challengers)):
        runtime.config.strategy_for(arm)  # an unknown strategy fails here, before anything is written
    url = runtime.database_url
    result = SimulationResult(accounts=accounts, days=days)
    with session_scope(url) as session, result.timed("portfolio"):
        if session.exec(select(col(Account.id)).limit(1)).first() is not None:
            raise RuntimeError(
                "the database already holds accounts; simulate into an empty database (overdue demo --fresh)"
            )
        spec = PortfolioSpec(accounts=accounts, seed=seed, start=start, champion=champion, experiment=experiment)
        generate_portfolio(session, spec, runtime.vault)

    runner = cycle_task_runner(runtime.settings)

    @flow(name="simulation", flow_run_name=f"simulation-{accounts}x{days}-seed{seed}", task_runner=runner)
    def simulated_days() -> None:
        """One flow run for the whole simulation; each day's cycle steps are its task runs."""
        for offset in range(days):
            day = start + timedelta(days=offset)
            with result.timed("cycle"):
                cycle_day(day, datetime.combine(day, time(), tzinfo=UTC), SecretStr(url))
            with session_scope(url) as session:
                with result.timed("dispatch"):
                    for hour in DISPATCH_HOURS:
                        at = datetime.combine(day, time(hour), tzinfo=UTC)
                        dispatch_due(session, runtime.config, runtime.channel, at)
                with result.timed("customers_and_staff"):
                    outcome = simulate_day(session, runtime, model, seed, day)
            result.payments += outcome.payments
            result.offers_accepted += outcome.offers_accepted
            result.tasks_decided += outcome.tasks_decided
            for currency, amount in outcome.collected_minor.items():
                result.collected_minor[currency] = result.collected_minor.get(currency, 0) + amount
            if on_day is not None:
                on_day(day)

    with in_process_flows():
        simulated_days()
    with session_scope(url) as session:  # the last day is over too: the dashboard shows it
        roll_up_ended_days(session, start + timedelta(days=days))
    return result
