"""`overdue legal ...`: approved legal cases, the hand-off package for counsel, and the litigation steps."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer
from rich.table import Table
from sqlmodel import col

from overdue.cli.common import DatabaseOption, console, refusing, runtime, unit_of_work, utcnow
from overdue.domain import litigation
from overdue.domain.money import format_money, to_minor
from overdue.store.db import session_scope
from overdue.store.tables import Account, LegalCase

legal_app = typer.Typer(
    help="Legal cases: demand letters, the package for counsel, litigation steps.", no_args_is_help=True
)
User = Annotated[str, typer.Option("--as", help="Who acts; recorded in the audit trail.")]


@legal_app.command("list")
def legal_list(
    status: Annotated[list[str] | None, typer.Option(help="Only cases in this state (repeatable).")] = None,
    limit: int = 50,
    database_url: DatabaseOption = None,
) -> None:
    """Legal cases, newest first, with their state, balance and costs."""
    query = sa.select(LegalCase, col(Account.currency)).join(Account, col(Account.id) == col(LegalCase.account_id))
    if status:
        query = query.where(col(LegalCase.status).in_(status))
    table = Table("case", "account", "state", "opened", "approved by", "balance", "costs", "demand letter")
    with session_scope(runtime(database_url).database_url) as session:
        for case, currency in session.execute(query.order_by(col(LegalCase.id).desc()).limit(limit)):
            table.add_row(
                str(case.id),
                str(case.account_id),
                case.status,
                str(case.opened_on),
                case.approved_by,
                format_money(case.balance_minor, currency, "en-US"),
                format_money(case.costs_minor, currency, "en-US"),
                f"message {case.demand_letter_id}" if case.demand_letter_id else "not yet queued",
            )
    console.print(table)


@legal_app.command("package")
def legal_package(
    case_id: int,
    output: Annotated[Path, typer.Option("-o", "--output", help="The zip file to write.")],
    user: User,
    database_url: DatabaseOption = None,
) -> None:
    """The hand-off package for counsel: case.json, the demand letter in en-US and zh-CN (PDF), statement.csv and
    the evidence. It holds personal data: keep it as you would the customer's file. Its export is audited."""
    from overdue.services.legal import LegalError
    from overdue.services.legal_package import build_package

    with refusing(LegalError), unit_of_work(database_url) as (rt, session):
        package = build_package(session, rt, case_id, user, utcnow())
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(package)
    console.print(f"Package for case {case_id} written to {output} ({len(package):,} bytes).")


@legal_app.command("letter")
def legal_letter(
    case_id: int,
    output: Annotated[Path, typer.Option("-o", "--output", help="The PDF file to write.")],
    locale: Annotated[str, typer.Option(help="en-US or zh-CN.")] = "en-US",
    database_url: DatabaseOption = None,
) -> None:
    """The case's demand letter (律师函) as a PDF in one language."""
    from overdue.services.legal import LETTER_LOCALES, LegalError, demand_letter_pdf

    if locale not in LETTER_LOCALES:
        raise typer.BadParameter(f"one of {', '.join(LETTER_LOCALES)}", param_hint="--locale")
    rt = runtime(database_url)
    with refusing(LegalError), session_scope(rt.database_url) as session:
        pdf = demand_letter_pdf(session, rt, case_id, locale)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(pdf)
    console.print(f"Demand letter ({locale}) for case {case_id} written to {output}.")


@legal_app.command("advance")
def legal_advance(
    case_id: int,
    state: Annotated[str, typer.Argument(help=", ".join(litigation.STATES[1:]))],
    user: User,
    on: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="The day it happened (default: today).")
    ] = None,
    cost: Annotated[str, typer.Option(help="What this step cost, in major units of the account's currency.")] = "0",
    note: Annotated[str, typer.Option(help="Court, docket number, what was decided, ...")] = "",
    database_url: DatabaseOption = None,
) -> None:
    """Record the case's next step with its date and cost; only the steps litigation allows, in order."""
    from overdue.services.legal import LegalError, advance

    now = utcnow()
    with refusing(LegalError, ValueError), unit_of_work(database_url) as (_, session):
        case = session.get(LegalCase, case_id)
        account = session.get(Account, case.account_id) if case else None
        if case is None or account is None:
            raise LegalError(f"legal case {case_id} does not exist")
        cost_minor = to_minor(cost, account.currency)
        advance(session, case_id, state, on.date() if on else now.date(), cost_minor, note, user, now)
        total = format_money(case.costs_minor, account.currency, "en-US")
    console.print(f"Case {case_id} is now {state}; costs so far {total}.")
