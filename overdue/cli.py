"""`overdue ...`: the command line for engineers and ops. Every command has --help."""

from __future__ import annotations

import os
import subprocess
import sys
import time as clock
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.engine import make_url
from sqlmodel import col

from overdue.config import ConfigError
from overdue.domain.masking import mask_address
from overdue.domain.money import format_money
from overdue.runtime import Runtime, build_runtime
from overdue.settings import PROJECT_ROOT, get_settings
from overdue.store.db import session_scope

app = typer.Typer(help="overdue: collections for overdue accounts, compliant by construction.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
import_app = typer.Typer(
    help="Import accounts and payments from CSV (all-or-nothing, idempotent).", no_args_is_help=True
)
cycle_app = typer.Typer(help="The daily collection cycle.", no_args_is_help=True)
outbox_app = typer.Typer(help="The outbox: every message the system has queued or sent.", no_args_is_help=True)
tasks_app = typer.Typer(help="Human tasks: approvals that need a person.", no_args_is_help=True)
offers_app = typer.Typer(help="Offers made in negotiation.", no_args_is_help=True)
holds_app = typer.Typer(
    help="Holds: stop collection contact for a reason (dispute, hardship, ...).", no_args_is_help=True
)
config_app = typer.Typer(help="Strategy, policies, offer bounds and templates under configs/.", no_args_is_help=True)
for sub, name in (
    (db_app, "db"),
    (import_app, "import"),
    (cycle_app, "cycle"),
    (outbox_app, "outbox"),
    (tasks_app, "tasks"),
    (offers_app, "offers"),
    (holds_app, "holds"),
    (config_app, "config"),
):
    app.add_typer(sub, name=name)

console = Console()
DatabaseOption = Annotated[str | None, typer.Option("--database-url", help="Overrides OVERDUE_DATABASE_URL.")]


def runtime(database_url: str | None = None, *, needs_schema: bool = True) -> Runtime:
    """Settings, configs and channels; by default also insists the database schema is up to date."""
    try:
        rt = build_runtime(get_settings(), database_url)
    except ConfigError as exc:
        console.print(f"[red]Configuration error:[/red] {exc}")
        raise typer.Exit(2) from None
    if needs_schema:
        from overdue.store.migrate import schema_is_current

        if not schema_is_current(rt.database_url):
            raise fail("The database schema is missing or out of date: run `overdue db upgrade` first.", 2)
    return rt


def utcnow() -> datetime:
    return datetime.now(UTC)


def fail(message: str, code: int = 1) -> typer.Exit:
    console.print(f"[red]{message}[/red]")
    return typer.Exit(code)


# --- db -------------------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade(database_url: DatabaseOption = None, revision: str = "head") -> None:
    """Create or migrate the schema to the latest revision."""
    from overdue.store.migrate import upgrade

    url = runtime(database_url, needs_schema=False).database_url
    upgrade(url, revision)
    console.print(f"Database at [bold]{make_url(url).render_as_string(hide_password=True)}[/bold] is at {revision}.")


@db_app.command("current")
def db_current(database_url: DatabaseOption = None) -> None:
    """Show the schema revision the database is at."""
    from overdue.store.migrate import current_revision

    console.print(
        current_revision(runtime(database_url, needs_schema=False).database_url)
        or "(empty database: run `overdue db upgrade`)"
    )


# --- config ---------------------------------------------------------------------------------------


@config_app.command("check")
def config_check() -> None:
    """Load and validate every config file and render every template the strategy uses, in every locale."""
    from overdue.channels.templates import TemplateRenderer

    rt = runtime(needs_schema=False)
    renderer: TemplateRenderer = rt.renderer
    needed = {(step.template, step.channel) for steps in rt.config.strategy.cadence.values() for step in steps}
    missing = [
        renderer.name(template, channel, locale)
        for template, channel in sorted(needed)
        for locale in ("en-US", "zh-CN")
        if renderer.name(template, channel, locale) not in renderer.available()
    ]
    if missing:
        raise fail("Missing templates: " + ", ".join(missing), 2)
    console.print(
        f"OK: strategy '{rt.config.strategy.name}', policies {sorted(rt.config.policies)}, "
        f"{len(renderer.available())} templates."
    )


# --- imports --------------------------------------------------------------------------------------


@import_app.command("accounts")
def import_accounts_cmd(file: Path, database_url: DatabaseOption = None) -> None:
    """Import customers, contact points and accounts. See docs/csv-formats.md for the columns."""
    from overdue.services.imports import ImportRejected, import_accounts

    rt = runtime(database_url)
    try:
        with session_scope(rt.database_url) as session:
            result = import_accounts(session, rt.config, file, utcnow())
    except ImportRejected as exc:
        console.print(str(exc), markup=False, soft_wrap=True)
        raise typer.Exit(1) from None
    console.print(f"Imported {result.created} accounts; {result.already_present} were already present.")


@import_app.command("payments")
def import_payments_cmd(file: Path, database_url: DatabaseOption = None) -> None:
    """Import payments and apply them at once. Payments already recorded (same payment_ref) are skipped."""
    from overdue.services.imports import ImportRejected, import_payments

    rt = runtime(database_url)
    try:
        with session_scope(rt.database_url) as session:
            result = import_payments(session, rt.config, file, utcnow())
    except ImportRejected as exc:
        console.print(str(exc), markup=False, soft_wrap=True)
        raise typer.Exit(1) from None
    console.print(f"Recorded {result.created} payments; {result.already_present} were already recorded.")


# --- cycle ----------------------------------------------------------------------------------------


@cycle_app.command("run")
def cycle_run(
    as_of: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Business date (default: today, UTC).")
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Run the daily cycle once, through Prefect (a temporary local server unless PREFECT_API_URL is set)."""
    from flows.daily_cycle import daily_cycle
    from flows.simulation import in_process_flows

    rt = runtime(database_url)
    business_date = as_of.date() if as_of else utcnow().date()
    with in_process_flows():
        summary = daily_cycle(as_of=business_date, now=utcnow(), database_url=rt.database_url)
    console.print_json(data=summary)


# --- simulate and demo ----------------------------------------------------------------------------


@app.command()
def simulate(
    accounts: Annotated[int, typer.Option(min=1, help="Synthetic accounts to generate.")] = 2000,
    days: Annotated[int, typer.Option(min=1, help="Days to simulate.")] = 90,
    seed: Annotated[int, typer.Option(help="Same seed, same portfolio and behaviour.")] = 7,
    start: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="First day (default: DAYS before today).")
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Generate a synthetic portfolio and run it day by day through the real Prefect flows."""
    rt = runtime(database_url, needs_schema=False)
    _simulate(rt, accounts, days, seed, start.date() if start else utcnow().date() - timedelta(days=days))
    print_summary(rt)


def _simulate(rt: Runtime, accounts: int, days: int, seed: int, start: date) -> None:
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
            run_simulation(rt, accounts, days, seed, start, on_day=advance)
        except RuntimeError as exc:
            raise fail(str(exc)) from None


@app.command()
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
        "  Approve or reject the pending legal escalations:  [bold].venv/bin/overdue dashboard[/bold]  (http://localhost:8501)\n"
        "  Read the messages the outbox holds:                [bold].venv/bin/overdue outbox list[/bold]\n"
        "  Watch the flow runs in the Prefect UI:             [bold].venv/bin/prefect server start[/bold]  (http://127.0.0.1:4200)"
    )


def print_summary(rt: Runtime) -> None:
    from overdue.services.reporting import portfolio_summary

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
    console.print(
        f"Plans: {summary.plans_by_status or 'none'}. Offers: {summary.offers_by_status or 'none'}.\n"
        f"Pending approvals: [bold]{summary.pending_approvals}[/bold]. Legal cases opened: {summary.legal_cases}."
    )


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
    """Show one message as the customer receives it."""
    from overdue.store.tables import OutreachMessage

    with session_scope(runtime(database_url).database_url) as session:
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


@outbox_app.command("dispatch")
def outbox_dispatch(database_url: DatabaseOption = None) -> None:
    """Send every queued message that is due now and inside the customer's contact window."""
    from overdue.services.outreach import dispatch_due

    rt = runtime(database_url)
    with session_scope(rt.database_url) as session:
        counts = dispatch_due(session, rt.config, rt.channel, utcnow())
    console.print(counts.as_dict())


# --- tasks and offers -----------------------------------------------------------------------------


@tasks_app.command("list")
def tasks_list(status: str = "open", limit: int = 50, database_url: DatabaseOption = None) -> None:
    """List human tasks (default: open ones, oldest first)."""
    import sqlalchemy as sa

    from overdue.store.tables import HumanTask

    table = Table("id", "kind", "account", "role", "created (UTC)", "due (UTC)", "status", "version")
    with session_scope(runtime(database_url).database_url) as session:
        query = sa.select(HumanTask).where(col(HumanTask.status) == status).order_by(col(HumanTask.id)).limit(limit)
        for t in session.scalars(query):
            created = t.created_at.strftime("%Y-%m-%d %H:%M") if t.created_at else ""
            due = t.due_at.strftime("%Y-%m-%d %H:%M") if t.due_at else ""
            table.add_row(str(t.id), t.kind, str(t.account_id), t.role_needed, created, due, t.status, str(t.version))
    console.print(table)


@tasks_app.command("decide")
def tasks_decide(
    task_id: int,
    reason: Annotated[str, typer.Option(help="Why; required and recorded in the audit trail.")],
    user: Annotated[str, typer.Option("--as", help="Who decides.")],
    approve: Annotated[bool, typer.Option("--approve/--reject", help="Approve or reject.")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Approve or reject a task. Refused if someone else decided it first."""
    from overdue.services.decisions import DecisionError, decide_task
    from overdue.store.tables import HumanTask

    with session_scope(runtime(database_url).database_url) as session:
        task = session.get(HumanTask, task_id)
        if task is None:
            raise fail(f"No task {task_id}.")
        try:
            decided = decide_task(
                session, task_id, task.version, "approve" if approve else "reject", reason, user, utcnow()
            )
        except DecisionError as exc:
            raise fail(str(exc)) from None
    console.print(f"Task {task_id} {decided.status} by {user}.")


@offers_app.command("accept")
def offers_accept(
    offer_id: int,
    via: Annotated[str, typer.Option(help="phone, sms, email, in_person or self_service")],
    user: Annotated[str, typer.Option("--by", help="Agent recording the acceptance.")],
    database_url: DatabaseOption = None,
) -> None:
    """Record a customer's acceptance of an offer; the plan and its installments are created."""
    from overdue.services.offers import OfferError, accept_offer

    rt = runtime(database_url)
    now = utcnow()
    with session_scope(rt.database_url) as session:
        try:
            plan = accept_offer(session, rt.config, offer_id, via, user, now.date(), now)
        except OfferError as exc:
            raise fail(str(exc)) from None
    console.print(f"Offer {offer_id} accepted; plan {plan.id} created.")


# --- holds ----------------------------------------------------------------------------------------


@holds_app.command("add")
def holds_add(
    account_id: int,
    kind: Annotated[str, typer.Option(help="dispute, complaint, hardship, breathing_space, bankruptcy, deceased, ...")],
    reason: Annotated[str, typer.Option(help="Why; recorded in the audit trail.")],
    user: Annotated[str, typer.Option("--as", help="Who places the hold.")],
    until: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Last held day (default: open-ended).")
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Place a hold: queued messages are cancelled now and the cycle leaves the account alone."""
    from overdue.services.holds import HoldError, place_hold

    now = utcnow()
    with session_scope(runtime(database_url).database_url) as session:
        try:
            hold = place_hold(session, account_id, kind, reason, user, now.date(), now, until.date() if until else None)
        except HoldError as exc:
            raise fail(str(exc)) from None
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
    with session_scope(runtime(database_url).database_url) as session:
        try:
            release_hold(session, hold_id, reason, user, now.date(), now)
        except HoldError as exc:
            raise fail(str(exc)) from None
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


# --- dashboard ------------------------------------------------------------------------------------


@app.command()
def dashboard(port: int = 8501, headless: bool = False) -> None:
    """Open the Streamlit dashboard (pending approvals)."""
    runtime()  # a missing schema is reported here with its fix, not as a stack trace in the browser
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(PROJECT_ROOT / "dashboard" / "app.py"),
        "--server.port",
        str(port),
    ]
    command += ["--server.headless", "true" if headless else "false", "--browser.gatherUsageStats", "false"]
    command += ["--client.toolbarMode", "minimal"]
    raise typer.Exit(subprocess.call(command))


if __name__ == "__main__":
    app()
