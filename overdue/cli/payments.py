"""Payments on an account: where each one went, and returning one (a reversal or a chargeback)."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from overdue.cli.common import DatabaseOption, console, fail, refusing, runtime, unit_of_work, utcnow
from overdue.domain.money import format_money
from overdue.store.db import session_scope

payments_app = typer.Typer(help="Payments: allocation per account, reversals and chargebacks.", no_args_is_help=True)


@payments_app.command("show")
def payments_show(
    account: Annotated[str, typer.Argument(help="The account reference (account_ref).")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of tables.")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """The account's balance per component and its credit, and every payment with where its money went."""
    from overdue.services.payment_ledger import account_ledger

    rt = runtime(database_url)
    with session_scope(rt.database_url) as session:
        ledger = account_ledger(session, rt.config, account, utcnow().date())
    if ledger is None:
        raise fail(f"No account {account!r}.")
    if as_json:
        print(json.dumps(asdict(ledger) | {"balance_minor": ledger.balance_minor}, default=str, indent=2))
        return

    def money(minor: int) -> str:
        return format_money(minor, ledger.currency, "en-US") if minor >= 0 else "-" + money(-minor)

    console.print(
        f"Account {ledger.account_ref} ({ledger.product}, {ledger.jurisdiction}), stage [bold]{ledger.stage}[/bold]: "
        f"owes {money(ledger.balance_minor)} = principal {money(ledger.principal_minor)} + interest "
        f"{money(ledger.interest_minor)} + fees {money(ledger.fees_minor)}; credit {money(ledger.credit_minor)}.\n"
        f"Interest and fees accrued through {ledger.accrued_through or 'import'}; a payment today pays "
        f"{', '.join(ledger.allocation_order)} in that order."
    )
    table = Table("received", "ref", "kind", "amount", "fees", "interest", "principal", "credit", "installments", "")
    for line in ledger.payments:
        note = (
            f"reversed by {line.reversed_by}"
            if line.reversed_by
            else (f"returns {line.reverses}" if line.reverses else "")
        )
        table.add_row(
            line.received_on.isoformat(),
            line.payment_ref,
            line.kind,
            money(line.amount_minor),
            money(line.to_fees_minor),
            money(line.to_interest_minor),
            money(line.to_principal_minor),
            money(line.to_credit_minor),
            ", ".join(f"#{seq} {money(amount)}" for seq, amount in line.installments.items()),
            note,
        )
    console.print(table)


@payments_app.command("reverse")
def payments_reverse(
    payment_ref: Annotated[str, typer.Argument(help="The payment to return.")],
    ref: Annotated[str, typer.Option(help="The reversal's own reference (the bank's return or chargeback id).")],
    kind: Annotated[str, typer.Option(help="reversal or chargeback.")] = "reversal",
    on: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Day returned (default today).")] = None,
    user: Annotated[str, typer.Option("--as", help="Who records it.")] = "ops",
    database_url: DatabaseOption = None,
) -> None:
    """Return a payment: its money goes back onto the balance, its installments re-open, and a closed account
    re-opens in the stage its facts call for. Recording the same --ref twice changes nothing."""
    import sqlalchemy as sa
    from sqlmodel import col

    from overdue.services.payments import REVERSALS, PaymentError, PaymentIn, record_payments
    from overdue.store.tables import Payment

    if kind not in REVERSALS:
        raise fail(f"--kind must be one of {', '.join(REVERSALS)}.")
    now = utcnow()
    with refusing(PaymentError), unit_of_work(database_url) as (rt, session):
        original = session.scalars(sa.select(Payment).where(col(Payment.payment_ref) == payment_ref)).first()
        if original is None:
            raise fail(f"No payment {payment_ref!r}.")
        returned = PaymentIn(
            ref,
            original.account_id,
            original.amount_minor,
            original.currency,
            on.date() if on else now.date(),
            "manual",
            kind,
            payment_ref,
        )
        results = record_payments(session, rt.config, [returned], user, now)
    if results.duplicates:
        console.print(f"{ref} was already recorded; nothing changed.")
    else:
        reopened = " The account re-opened." if results.reopened_accounts else ""
        console.print(f"Payment {payment_ref} returned as {kind} {ref}.{reopened}")
