"""Bringing work in: accounts and payments from CSV files."""

from __future__ import annotations

from pathlib import Path

import typer

from overdue.cli.common import DatabaseOption, console, runtime, utcnow
from overdue.store.db import session_scope

import_app = typer.Typer(
    help="Import accounts and payments from CSV (all-or-nothing, idempotent).", no_args_is_help=True
)


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
