"""Bringing work in: accounts and payments from CSV files."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import typer
from sqlmodel import Session

from overdue.cli.common import DatabaseOption, console, runtime, utcnow
from overdue.runtime import Runtime
from overdue.services.imports import (
    ImportRejected,
    ImportResult,
    import_accounts,
    import_affordability,
    import_payments,
)
from overdue.store.db import session_scope

Importer = Callable[[Session, Runtime, datetime], ImportResult]
import_app = typer.Typer(
    help="Import accounts and payments from CSV (all-or-nothing, idempotent).", no_args_is_help=True
)


def _run(importer: Importer, database_url: str | None) -> ImportResult:
    """One transaction for the whole file; a rejected file prints every problem and writes nothing."""
    rt = runtime(database_url)
    try:
        with session_scope(rt.database_url) as session:
            return importer(session, rt, utcnow())
    except ImportRejected as exc:
        console.print(str(exc), markup=False, soft_wrap=True)
        raise typer.Exit(1) from None


@import_app.command("accounts")
def import_accounts_cmd(file: Path, database_url: DatabaseOption = None) -> None:
    """Import customers, contact points and accounts; ID, card and bank account numbers are sealed at rest.
    See docs/csv-formats.md for the columns."""
    result = _run(lambda session, rt, now: import_accounts(session, rt.config, rt.vault, file, now), database_url)
    console.print(f"Imported {result.created} accounts; {result.already_present} were already present.")


@import_app.command("payments")
def import_payments_cmd(file: Path, database_url: DatabaseOption = None) -> None:
    """Import payments and apply them at once. Payments already recorded (same payment_ref) are skipped."""
    result = _run(lambda session, rt, now: import_payments(session, rt.config, file, now), database_url)
    console.print(f"Recorded {result.created} payments; {result.already_present} were already recorded.")


@import_app.command("affordability")
def import_affordability_cmd(file: Path, database_url: DatabaseOption = None) -> None:
    """Import customers' affordability statements (income, expenses, dependants; optional hardship_reason and
    note). Each gets its capacity to pay; statements already imported (same statement_ref) are skipped."""
    result = _run(lambda session, rt, now: import_affordability(session, rt.config, file, now), database_url)
    console.print(f"Recorded {result.created} statements; {result.already_present} were already recorded.")
