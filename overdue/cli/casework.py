"""Case work: holds and disputes (human tasks: overdue/cli/queue.py; offers, promises and affordability:
overdue/cli/negotiation.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from overdue.cli.common import DatabaseOption, console, fail, refusing, runtime, unit_of_work, utcnow
from overdue.store.db import session_scope

holds_app = typer.Typer(
    help="Holds: stop collection contact for a reason (hardship, bankruptcy, ...).", no_args_is_help=True
)
disputes_app = typer.Typer(
    help="Disputes: collection stops until the customer is sent the verification.", no_args_is_help=True
)


# --- holds ----------------------------------------------------------------------------------------


@holds_app.command("add")
def holds_add(
    account_id: int,
    kind: Annotated[str, typer.Option(help="complaint, hardship, breathing_space, bankruptcy, deceased, ...")],
    reason: Annotated[str, typer.Option(help="Why; recorded in the audit trail.")],
    user: Annotated[str, typer.Option("--as", help="Who places the hold.")],
    until: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Last held day (default: open-ended).")
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Place a hold: queued messages are cancelled now and the cycle leaves the account alone."""
    from overdue.domain.flags import PAUSE
    from overdue.services.holds import DISPUTE, HoldError, place_hold

    if kind == DISPUTE:
        raise fail("Record a dispute with `overdue disputes open`: it needs the date received and how.")
    if kind == PAUSE:
        raise fail("Pause an account with `overdue accounts pause`: its days and cadence stop with it.")
    now = utcnow()
    with refusing(HoldError), unit_of_work(database_url) as (_, session):
        hold = place_hold(session, account_id, kind, reason, user, now.date(), now, until.date() if until else None)
    console.print(f"Hold {hold.id} ({kind}) placed on account {account_id}.")


@holds_app.command("release")
def holds_release(
    hold_id: int,
    reason: Annotated[str, typer.Option(help="Why; recorded in the audit trail.")],
    user: Annotated[str, typer.Option("--as", help="Who releases the hold.")],
    database_url: DatabaseOption = None,
) -> None:
    """End a hold today; collection contact may resume."""
    from overdue.services.holds import HoldError, release_hold

    now = utcnow()
    with refusing(HoldError), unit_of_work(database_url) as (_, session):
        release_hold(session, hold_id, reason, user, now.date(), now)
    console.print(f"Hold {hold_id} released.")


@holds_app.command("list")
def holds_list(account_id: int, database_url: DatabaseOption = None) -> None:
    """List an account's holds."""
    from overdue.services.holds import holds_of

    table = Table("id", "kind", "starts", "ends", "by", "reason")
    with session_scope(runtime(database_url).database_url) as session:
        for h in holds_of(session, account_id):
            table.add_row(str(h.id), h.kind, str(h.starts_on), str(h.ends_on or "open"), h.created_by, h.reason)
    console.print(table)


# --- disputes -------------------------------------------------------------------------------------


@disputes_app.command("open")
def disputes_open(
    account_id: int,
    reason: Annotated[str, typer.Option(help="What the customer disputes; recorded in the audit trail.")],
    user: Annotated[str, typer.Option("--as", help="Who records the dispute.")],
    received: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Day the dispute arrived (default: today).")
    ] = None,
    written: Annotated[bool, typer.Option("--written/--oral", help="In writing (letter, email, form) or not.")] = True,
    database_url: DatabaseOption = None,
) -> None:
    """Open a dispute: collection stops at once and stays stopped until the verification is sent."""
    from overdue.services.disputes import open_dispute
    from overdue.services.holds import HoldError

    now = utcnow()
    received_on = received.date() if received else now.date()
    with refusing(HoldError), unit_of_work(database_url) as (rt, session):
        hold = open_dispute(session, rt.config, account_id, reason, user, received_on, written, now)
    console.print(f"Dispute hold {hold.id} placed on account {account_id}; collection stops until it is verified.")


@disputes_app.command("verify")
def disputes_verify(
    hold_id: int,
    note: Annotated[str, typer.Option(help="What was checked and found; recorded in the audit trail.")],
    user: Annotated[str, typer.Option("--as", help="Who verified the debt.")],
    database_url: DatabaseOption = None,
) -> None:
    """Close a dispute: the verification letter is queued to the customer, then the hold ends."""
    from overdue.services.disputes import verify_dispute
    from overdue.services.holds import HoldError

    now = utcnow()
    with refusing(HoldError), unit_of_work(database_url) as (rt, session):
        letter = verify_dispute(session, rt.renderer, rt.sender, hold_id, note, user, now)
    console.print(f"Verification letter {letter.id} queued; dispute hold {hold_id} ended.")
