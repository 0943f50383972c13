"""Accounts: pause collection on a date range (back-dated if need be) and resume it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from overdue.cli.common import DatabaseOption, console, refusing, unit_of_work, utcnow

accounts_app = typer.Typer(help="Accounts: pause and resume collection.", no_args_is_help=True)


@accounts_app.command("pause")
def accounts_pause(
    account_id: int,
    starts: Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="First paused day (may be past).")],
    reason: Annotated[str, typer.Option(help="Why; recorded in the audit trail.")],
    user: Annotated[str, typer.Option("--as", help="Who pauses the account.")],
    until: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Last paused day (default: until resumed).")
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Pause an account: no stage change and no message while paused; afterwards its days past due and its
    cadence carry on where they stopped. Messages queued for a paused day are cancelled now."""
    from overdue.services.holds import HoldError
    from overdue.services.pauses import pause_account

    now = utcnow()
    last = until.date() if until else None
    with refusing(HoldError), unit_of_work(database_url) as (_, session):
        hold = pause_account(session, account_id, starts.date(), last, reason, user, now.date(), now)
    span = f"from {starts.date()}" + (f" to {last}" if last else " until resumed")
    console.print(f"Account {account_id} paused {span} (hold {hold.id}).")


@accounts_app.command("resume")
def accounts_resume(
    account_id: int,
    reason: Annotated[str, typer.Option(help="Why; recorded in the audit trail.")],
    user: Annotated[str, typer.Option("--as", help="Who resumes the account.")],
    on: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="First day collection resumes (default: today).")
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """End the account's pause: `--on` is its first day back in collection."""
    from overdue.services.holds import HoldError
    from overdue.services.pauses import resume_account

    now = utcnow()
    first = on.date() if on else now.date()
    with refusing(HoldError), unit_of_work(database_url) as (_, session):
        hold = resume_account(session, account_id, first, reason, user, now)
    console.print(f"Account {account_id} resumes on {first} (pause {hold.id} ended {hold.ends_on}).")
