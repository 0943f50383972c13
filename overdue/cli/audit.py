"""The audit trail for auditors and regulators: exported, never edited (the database refuses)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from overdue.cli.common import DatabaseOption, console, runtime
from overdue.store.db import session_scope

audit_app = typer.Typer(
    help="The audit trail: append-only, kept at least OVERDUE_AUDIT_RETENTION_DAYS (730) days.", no_args_is_help=True
)


class ExportFormat(StrEnum):
    jsonl = "jsonl"


DateOption = Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="A UTC date (inclusive).")]


def _utc(day: datetime | None, days_after: int = 0) -> datetime | None:
    return None if day is None else day.replace(tzinfo=UTC) + timedelta(days=days_after)


@audit_app.command("export")
def audit_export(
    fmt: Annotated[ExportFormat, typer.Option("--format", help="Output format (JSON Lines).")] = ExportFormat.jsonl,
    account: Annotated[int | None, typer.Option(help="Only this account id.")] = None,
    since: DateOption = None,
    until: DateOption = None,
    output: Annotated[Path | None, typer.Option(help="Write to this file instead of standard output.")] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Export audit events in id order, one JSON object per line (ts in UTC, local_ts in the customer's zone)."""
    from overdue.services.audit_export import ExportFilter, export_events, write_jsonl

    selection = ExportFilter(account_id=account, since=_utc(since), until=_utc(until, days_after=1))
    with session_scope(runtime(database_url).database_url) as session:
        events = export_events(session, selection)
        if output is None:
            write_jsonl(events, sys.stdout)
            return
        with output.open("w", encoding="utf-8") as stream:
            count = write_jsonl(events, stream)
    console.print(f"Wrote {count} audit events to {output}")
