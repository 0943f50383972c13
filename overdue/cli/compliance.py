"""Compliance: the period report with a re-check of every contact sent against the policies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from overdue.cli.common import DatabaseOption, console, runtime
from overdue.services.compliance_report import ComplianceReport, compliance_report
from overdue.store.db import session_scope

compliance_app = typer.Typer(
    help="Compliance: what was sent and refused, and proof that no rule was broken.", no_args_is_help=True
)


@compliance_app.command("report")
def compliance_report_cmd(
    start: Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="First day (UTC).")],
    end: Annotated[datetime, typer.Option("--to", formats=["%Y-%m-%d"], help="Last day (UTC), inclusive.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document instead of tables.")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Contacts and blocks per rule and channel, holds opened and closed, and every contact sent in the
    period re-checked with the guard. Exits 1 if any contact broke a rule."""
    rt = runtime(database_url)
    with session_scope(rt.database_url) as session:
        report = compliance_report(session, rt.config, start.date(), end.date())
    if as_json:
        document = {
            "from": report.start.isoformat(),
            "to": report.end.isoformat(),
            "sent": dict(report.sent),
            "blocked": [{"rule": r, "channel": c, "count": n} for (r, c), n in sorted(report.blocked.items())],
            "holds_opened": dict(report.holds_opened),
            "holds_closed": dict(report.holds_closed),
            "rechecked": report.rechecked,
            "violations": [
                {
                    "message_id": v.message_id,
                    "account_id": v.account_id,
                    "channel": v.channel,
                    "sent_at": v.sent_at.isoformat(),
                    "rules": list(v.rules),
                }
                for v in report.violations
            ],
        }
        console.print_json(data=document)
    else:
        _print_tables(report)
    if report.violations:
        raise typer.Exit(1)


def _print_tables(report: ComplianceReport) -> None:
    console.print(f"[bold]Compliance report {report.start} to {report.end}[/bold]")
    sent = Table("channel", "sent", title="Contacts sent")
    for channel, count in sorted(report.sent.items()):
        sent.add_row(channel, str(count))
    blocked = Table("rule", "channel", "refused", title="Contacts the guard refused")
    for (rule, channel), count in sorted(report.blocked.items()):
        blocked.add_row(rule, channel, str(count))
    holds = Table("kind", "opened", "closed", title="Holds")
    for kind in sorted(set(report.holds_opened) | set(report.holds_closed)):
        holds.add_row(kind, str(report.holds_opened[kind]), str(report.holds_closed[kind]))
    console.print(sent, blocked, holds)
    if not report.violations:
        console.print(f"Re-checked {report.rechecked} contacts against the policies: [green]no violation[/green].")
        return
    violations = Table("message", "account", "channel", "sent at (UTC)", "rules broken", title="VIOLATIONS")
    for v in report.violations:
        violations.add_row(str(v.message_id), str(v.account_id), v.channel, v.sent_at.isoformat(), ", ".join(v.rules))
    console.print(violations)
    console.print(f"[red]{len(report.violations)} of {report.rechecked} contacts broke a rule.[/red]")
