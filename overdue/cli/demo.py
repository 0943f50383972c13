"""The demo, the simulation and the dashboard: commands that sit on top of everything else."""

from __future__ import annotations

import os
import subprocess
import sys
import time as clock
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.engine import make_url

from overdue.cli.common import DatabaseOption, console, fail, runtime, utcnow
from overdue.cli.report import arms_table
from overdue.config import ConfigError
from overdue.config.models import Experiment
from overdue.domain.money import format_money
from overdue.runtime import Runtime
from overdue.services.reporting import arm_outcomes, portfolio_summary
from overdue.settings import PROJECT_ROOT
from overdue.sim.behaviour import BehaviourModel
from overdue.store.db import session_scope

# --- simulate and demo ----------------------------------------------------------------------------


def simulate(
    accounts: Annotated[int, typer.Option(min=1, help="Synthetic accounts to generate.")] = 2000,
    days: Annotated[int, typer.Option(min=1, help="Days to simulate.")] = 90,
    seed: Annotated[int, typer.Option(help="Same seed, same portfolio and behaviour.")] = 7,
    start: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="First day (default: DAYS before today).")
    ] = None,
    strategy: Annotated[str | None, typer.Option(help="Champion strategy (default: OVERDUE_STRATEGY).")] = None,
    challenger: Annotated[
        str | None, typer.Option(help="Challenger strategy for this run (replaces configs/experiment.yaml).")
    ] = None,
    share: Annotated[float, typer.Option(min=0.01, max=0.99, help="Share of accounts the challenger gets.")] = 0.2,
    behaviour: Annotated[
        Path | None, typer.Option(help="Customer and ops behaviour (default: configs/simulation.yaml).")
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Generate a synthetic portfolio and run it day by day through the real Prefect flows; with
    --challenger, a share of the accounts follows another strategy and the arms are compared at the end."""
    from overdue.config.models import Challenger, Experiment

    rt = runtime(database_url, needs_schema=False)
    experiment = None
    if challenger is not None:
        experiment = Experiment(seed=seed, challengers=(Challenger(strategy=challenger, share=share),))
    first = start.date() if start else utcnow().date() - timedelta(days=days)
    model = None
    if behaviour is not None:
        from overdue.sim.behaviour import load_behaviour

        try:
            model = load_behaviour(behaviour)
        except ConfigError as exc:
            raise fail(str(exc), 2) from None
    _simulate(rt, accounts, days, seed, first, strategy, experiment, model)
    print_summary(rt)


def _simulate(
    rt: Runtime,
    accounts: int,
    days: int,
    seed: int,
    start: date,
    champion: str | None = None,
    experiment: Experiment | None = None,
    model: BehaviourModel | None = None,
) -> None:
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")  # the progress bar speaks instead
    from flows.simulation import run_simulation
    from overdue.store.migrate import upgrade

    upgrade(rt.database_url)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        bar = progress.add_task("Starting Prefect and generating the portfolio", total=days)

        def advance(day: date) -> None:
            progress.update(bar, advance=1, description=f"Simulated {day.isoformat()}")

        try:
            run_simulation(
                rt, accounts, days, seed, start, model, on_day=advance, champion=champion, experiment=experiment
            )
        except (RuntimeError, ConfigError) as exc:
            raise fail(str(exc)) from None


def demo(
    fresh: Annotated[bool, typer.Option(help="Delete the SQLite database first.")] = True,
    accounts: Annotated[int, typer.Option(min=1)] = 2000,
    days: Annotated[int, typer.Option(min=1)] = 90,
    seed: int = 7,
) -> None:
    """The main job on embedded defaults: SQLite, dry-run outbox, no credentials. Ends with a summary."""
    rt = runtime(needs_schema=False)
    url = make_url(rt.database_url)
    if fresh:
        if url.get_backend_name() != "sqlite":
            raise fail("--fresh only deletes SQLite databases; point OVERDUE_DATABASE_URL at an empty database.")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{url.database}{suffix}").unlink(missing_ok=True)
    started = clock.monotonic()
    console.print(f"Simulating {accounts} accounts over {days} days (seed {seed}) into {url.database}")
    _simulate(rt, accounts, days, seed, utcnow().date() - timedelta(days=days))
    print_summary(rt)
    console.print(f"\nFinished in {clock.monotonic() - started:.0f} s.")
    console.print(
        "\nNext:\n"
        "  Make yourself a dashboard user:  [bold].venv/bin/overdue users add ada --role admin[/bold]\n"
        "  Approve or reject the pending legal escalations:  [bold].venv/bin/overdue dashboard[/bold]  (http://localhost:8501)\n"
        "  Read the messages the outbox holds:                [bold].venv/bin/overdue outbox list[/bold]\n"
        "  Watch the flow runs in the Prefect UI:             [bold].venv/bin/prefect server start[/bold]  (http://127.0.0.1:4200)"
    )


def print_summary(rt: Runtime) -> None:

    with session_scope(rt.database_url) as session:
        summary = portfolio_summary(session)
    stages = Table(title="Accounts per stage")
    stages.add_column("stage")
    stages.add_column("accounts", justify="right")
    for stage in ("current", "reminder", "negotiation", "plan", "legal", "closed"):
        stages.add_row(stage, str(summary.accounts_by_stage.get(stage, 0)))
    messages = Table(title="Messages (dry-run outbox)")
    statuses = sorted({status for _, status in summary.messages_by_channel})
    messages.add_column("channel")
    for status in statuses:
        messages.add_column(status, justify="right")
    for channel in ("sms", "email", "voice", "letter"):
        messages.add_row(channel, *(str(summary.messages_by_channel.get((channel, s), 0)) for s in statuses))
    console.print(stages, messages)
    for currency, amount in sorted(summary.collected_minor.items()):
        outstanding = summary.outstanding_minor.get(currency, 0)
        console.print(
            f"Collected {format_money(amount, currency, 'en-US')} ({currency}); "
            f"still outstanding {format_money(outstanding, currency, 'en-US')}"
        )
    blocked = ", ".join(f"{rule} {count}" for rule, count in summary.blocked_by_rule.items()) or "none"
    console.print(f"Contacts the guard refused, by rule: {blocked}.")
    outcomes = summary.plan_outcomes
    console.print(
        f"Plans kept {outcomes['plans_kept']}, broken {outcomes['plans_broken']}; promises to pay kept "
        f"{outcomes['promises_kept']}, broken {outcomes['promises_broken']}."
    )
    console.print(
        f"Plans: {summary.plans_by_status or 'none'}. Offers: {summary.offers_by_status or 'none'}.\n"
        f"Pending approvals: [bold]{summary.pending_approvals}[/bold]. Legal cases opened: {summary.legal_cases}."
    )
    with session_scope(rt.database_url) as session:
        arms = arm_outcomes(session, rt.config.experiment.channel_costs)
    if arms:
        console.print(arms_table(arms))


# --- dashboard ------------------------------------------------------------------------------------


def dashboard(port: int = 8501, headless: bool = False) -> None:
    """Open the Streamlit dashboard (sign in with a user from `overdue users add`). Without a terminal to answer
    Streamlit's first-run questions (a service, `nohup`), it runs headless and prints its address."""
    runtime()  # a missing schema is reported here with its fix, not as a stack trace in the browser
    headless = headless or not sys.stdin.isatty()
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(PROJECT_ROOT / "dashboard" / "server.py"),
        "--server.port",
        str(port),
    ]
    command += ["--server.headless", "true" if headless else "false", "--browser.gatherUsageStats", "false"]
    command += ["--client.toolbarMode", "minimal"]
    raise typer.Exit(subprocess.call(command))
