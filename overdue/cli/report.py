"""Reports for managers: how the portfolio and each strategy arm are doing."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer
from rich.table import Table

from overdue.cli.common import DatabaseOption, console, runtime
from overdue.services.reporting import ArmOutcome
from overdue.store.db import session_scope

report_app = typer.Typer(help="Portfolio reports for managers.", no_args_is_help=True)


@report_app.command("arms")
def report_arms(
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Champion against challengers: accounts, resolved, recovery, cure rate (delinquent accounts back to current
    or paid off), PTP kept rate (promises to pay due, paid by their date), contacts and their cost, plans kept,
    disputes and complaints, per strategy arm."""
    from overdue.services.reporting import arm_outcomes

    rt = runtime(database_url)
    with session_scope(rt.database_url) as session:
        arms = arm_outcomes(session, rt.config.experiment.channel_costs)
    if as_json:
        rates = ("resolved_rate", "plan_kept_rate", "cure_rate", "ptp_kept_rate")
        print(json.dumps([asdict(arm) | {rate: getattr(arm, rate) for rate in rates} for arm in arms], indent=2))
    else:
        console.print(arms_table(arms))


def arms_table(arms: list[ArmOutcome]) -> Table:
    """Champion against challengers, as `overdue report arms` and the demo summary show them."""
    table = Table(title="Strategy arms (contacts and their cost per account)")
    names = (
        "arm",
        "accounts",
        "resolved",
        "recovery",
        "cured",
        "PTP kept",
        "contacts",
        "cost",
        "plans kept",
        "disputes",
    )
    for name in names:
        table.add_column(name, justify="left" if name == "arm" else "right")
    for arm in arms:
        table.add_row(
            arm.arm,
            str(arm.accounts),
            f"{arm.resolved_rate:.1%}",
            f"{arm.recovery_rate:.1%}",
            f"{arm.cure_rate:.1%} of {arm.went_delinquent}",
            f"{arm.ptp_kept_rate:.1%} of {arm.promises_kept + arm.promises_broken}",
            f"{arm.contacts_per_account:.1f}",
            f"${arm.contact_cost_per_account:.2f}",
            f"{arm.plans_kept}/{arm.plans_kept + arm.plans_broken}",
            str(arm.disputes_and_complaints),
        )
    return table


@report_app.command("rollup")
def report_rollup(
    first: Annotated[str, typer.Option("--from", help="First business date (YYYY-MM-DD).")],
    last: Annotated[str, typer.Option("--to", help="Last business date (YYYY-MM-DD), inclusive.")],
    database_url: DatabaseOption = None,
) -> None:
    """Roll up the managers' figures for dates the daily cycle has not (a backfill); each date once, in order.

    Each daily cycle does this for the days that have ended (up to 31 back); a date already rolled up is left as
    it is."""
    from datetime import date

    from overdue.cli.common import fail
    from overdue.services.rollups import roll_up_range

    try:
        start, end = date.fromisoformat(first), date.fromisoformat(last)
    except ValueError as exc:
        raise fail(f"Not a date: {exc}") from None
    if end < start:
        raise fail("--to is before --from.")
    with session_scope(runtime(database_url).database_url) as session:
        written = roll_up_range(session, start, end)
    console.print(f"Rolled up {start} to {end}: {written} figures written.")
