"""Running the cycle and reading the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table
from sqlmodel import col

from overdue.cli.common import DatabaseOption, console, fail, runtime, utcnow
from overdue.config.models import CHANNELS
from overdue.domain.masking import mask_address
from overdue.store.db import session_scope

cycle_app = typer.Typer(help="The daily collection cycle.", no_args_is_help=True)
outbox_app = typer.Typer(help="The outbox: every message the system has queued or sent.", no_args_is_help=True)


# --- cycle ----------------------------------------------------------------------------------------


@cycle_app.command("run")
def cycle_run(
    as_of: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Business date (default: today, UTC).")
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Run the daily cycle once, through Prefect (a temporary local server unless PREFECT_API_URL is set)."""
    from pydantic import SecretStr

    from flows.daily_cycle import daily_cycle
    from flows.simulation import in_process_flows

    rt = runtime(database_url)
    business_date = as_of.date() if as_of else utcnow().date()
    with in_process_flows():
        summary = daily_cycle(as_of=business_date, now=utcnow(), database_url=SecretStr(rt.database_url))
    console.print_json(data=summary)


# --- outbox ---------------------------------------------------------------------------------------


@outbox_app.command("list")
def outbox_list(
    status: str | None = None,
    channel: str | None = None,
    account: Annotated[int | None, typer.Option(help="Account id.")] = None,
    limit: int = 20,
    database_url: DatabaseOption = None,
) -> None:
    """List messages, newest first, with addresses masked."""
    import sqlalchemy as sa

    from overdue.store.tables import OutreachMessage

    query = sa.select(OutreachMessage).order_by(col(OutreachMessage.id).desc()).limit(limit)
    if status:
        query = query.where(col(OutreachMessage.status) == status)
    if channel:
        query = query.where(col(OutreachMessage.channel) == channel)
    if account:
        query = query.where(col(OutreachMessage.account_id) == account)
    table = Table("id", "account", "channel", "to", "template", "locale", "status", "send at (UTC)")
    with session_scope(runtime(database_url).database_url) as session:
        for m in session.scalars(query):
            send_at = m.send_at.strftime("%Y-%m-%d %H:%M") if m.send_at else ""
            table.add_row(
                str(m.id),
                str(m.account_id),
                m.channel,
                mask_address(m.address, m.channel),
                m.template,
                m.locale,
                m.status,
                send_at,
            )
    console.print(table)


@outbox_app.command("show")
def outbox_show(message_id: int, database_url: DatabaseOption = None) -> None:
    """Show one message as the customer receives it (for a letter, also where its PDF is)."""
    from overdue.services.letters import letter_path
    from overdue.store.tables import OutreachMessage

    rt = runtime(database_url)
    with session_scope(rt.database_url) as session:
        m = session.get(OutreachMessage, message_id)
        if m is None:
            raise fail(f"No message {message_id}.")
        console.print(
            f"[bold]#{m.id}[/bold] {m.channel} to {mask_address(m.address, m.channel)} · {m.status}",
            f"· key {m.idempotency_key}",
        )
        if m.subject:
            console.print(f"[bold]Subject:[/bold] {m.subject}", markup=True)
        console.print(m.body, markup=False)
        if m.channel == "letter":
            pdf = letter_path(rt.settings.data_dir, m)
            made = f"{pdf}" if pdf.exists() else f"not made yet: `overdue letters render {m.id}` writes {pdf}"
            console.print(f"\n[bold]PDF:[/bold] {made}", highlight=False)


@outbox_app.command("dispatch")
def outbox_dispatch(
    batch: Annotated[int, typer.Option(min=1, help="Messages per round trip to the database.")] = 10_000,
    database_url: DatabaseOption = None,
) -> None:
    """Send every queued message that is due now and inside the customer's contact window, through the
    channels' providers (dry-run unless OVERDUE_OUTREACH_MODE says live), a batch at a time until none is left."""
    from overdue.services.dispatch import DispatchCounts, dispatch_due

    rt = runtime(database_url)
    total = DispatchCounts()
    while True:
        with session_scope(rt.database_url) as session:
            counts = dispatch_due(session, rt.config, rt.channel, utcnow(), limit=batch)
        total.add(counts)
        if counts.handled < batch:
            break
    channels = ", ".join(f"{channel} {rt.channel.provider_of(channel)}" for channel in CHANNELS)
    console.print(f"Channels: {channels}")
    console.print(total.as_dict())
