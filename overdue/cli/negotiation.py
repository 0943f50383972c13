"""Negotiation at the desk: affordability, offers (and their approval), acceptance, promises to pay."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Annotated

import sqlalchemy as sa
import typer
from rich.table import Table
from sqlmodel import Session, col

from overdue.cli.common import DatabaseOption, console, fail, refusing, runtime, unit_of_work, utcnow
from overdue.domain.money import format_money, to_minor
from overdue.store.db import session_scope
from overdue.store.tables import Account, Offer, PaymentPlan

offers_app = typer.Typer(help="Offers made in negotiation: see, make, show and accept them.", no_args_is_help=True)
affordability_app = typer.Typer(
    help="What a customer earns and spends, their capacity to pay, and the hardship flag.", no_args_is_help=True
)
promises_app = typer.Typer(help="Promises to pay (an amount by a date), tracked like plans.", no_args_is_help=True)
User = Annotated[str, typer.Option("--as", help="Who records it.")]
Day = Annotated[datetime, typer.Option(formats=["%Y-%m-%d"], help="A date, YYYY-MM-DD.")]


def _account(session: Session, account_id: int) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise fail(f"No account {account_id}.")
    return account


def _money(minor: int, currency: str) -> str:
    return format_money(minor, currency, "en-US")


# --- affordability ------------------------------------------------------------------------------------------


@affordability_app.command("record")
def affordability_record(
    account_id: int,
    income: Annotated[str, typer.Option(help="Monthly household income, e.g. 3200.00")],
    expenses: Annotated[str, typer.Option(help="Monthly essential expenses, e.g. 2100.00")],
    dependants: Annotated[int, typer.Option(help="People who depend on that income.")],
    user: User,
    hardship: Annotated[str | None, typer.Option(help="Flag hardship with this reason (a hardship hold).")] = None,
    note: Annotated[str, typer.Option(help="Anything else the customer said.")] = "",
    database_url: DatabaseOption = None,
) -> None:
    """Record what the customer told an agent; prints the capacity to pay (formula in configs/offers.yaml)."""
    from overdue.domain.affordability import Statement
    from overdue.services.affordability import AffordabilityError, record_statement

    with refusing(AffordabilityError, ValueError), unit_of_work(database_url) as (rt, session):
        currency = _account(session, account_id).currency
        statement = Statement(to_minor(income, currency), to_minor(expenses, currency), dependants)
        kept = record_statement(
            session, rt.config, account_id, statement, "agent", user, utcnow(), hardship_reason=hardship, note=note
        )
        capacity = _money(kept.capacity_minor, currency)
        flagged = kept.hardship_hold_id
    console.print(f"Statement {kept.id}: capacity to pay {capacity} a month.")
    if flagged:
        console.print(f"Hardship flagged: hold {flagged} placed on account {account_id}.")


@affordability_app.command("show")
def affordability_show(account_id: int, database_url: DatabaseOption = None) -> None:
    """The customer's statements, latest first."""
    from overdue.store.tables import AffordabilityStatement

    table = Table("id", "recorded (UTC)", "source", "by", "income", "expenses", "dependants", "capacity", "hardship")
    with session_scope(runtime(database_url).database_url) as session:
        account = _account(session, account_id)
        query = (
            sa.select(AffordabilityStatement)
            .where(col(AffordabilityStatement.customer_id) == account.customer_id)
            .order_by(col(AffordabilityStatement.recorded_at).desc())
        )
        for s in session.scalars(query):
            table.add_row(
                str(s.id),
                s.recorded_at.strftime("%Y-%m-%d %H:%M") if s.recorded_at else "",
                s.source,
                s.recorded_by,
                _money(s.income_minor, s.currency),
                _money(s.expenses_minor, s.currency),
                str(s.dependants),
                _money(s.capacity_minor, s.currency),
                f"hold {s.hardship_hold_id}" if s.hardship_hold_id else "",
            )
    console.print(table)


# --- offers -------------------------------------------------------------------------------------------------


@offers_app.command("list")
def offers_list(
    status: str = "open",
    account: Annotated[int | None, typer.Option(help="Account id.")] = None,
    limit: int = 50,
    database_url: DatabaseOption = None,
) -> None:
    """List offers (default: open ones; pending_approval, accepted, expired, rejected, withdrawn)."""
    query = (
        sa.select(Offer, col(Account.currency))
        .join(Account, col(Account.id) == col(Offer.account_id))
        .where(col(Offer.status) == status)
        .order_by(col(Offer.id))
        .limit(limit)
    )
    if account:
        query = query.where(col(Offer.account_id) == account)
    table = Table("id", "account", "kind", "total", "payments", "first due", "expires", "status")
    with session_scope(runtime(database_url).database_url) as session:
        for offer, currency in session.execute(query):
            table.add_row(
                str(offer.id),
                str(offer.account_id),
                offer.kind,
                _money(offer.total_minor, currency),
                str(offer.installments),
                str(offer.first_due_date),
                str(offer.expires_on),
                offer.status,
            )
    console.print(table)


@offers_app.command("menu")
def offers_menu(account_id: int, database_url: DatabaseOption = None) -> None:
    """Every kind of offer the account's jurisdiction and product allow, at its default terms (nothing saved)."""
    from overdue.domain.offers import menu
    from overdue.services.offers import account_facts, offer_policy
    from overdue.store.tables import Customer

    table = Table("kind", "total", "payments", "first due", "interest", "fees", "when kept", "approval")
    rt = runtime(database_url)
    with session_scope(rt.database_url) as session:
        account = _account(session, account_id)
        customer = session.get(Customer, account.customer_id)
        assert customer is not None
        for terms in menu(
            account_facts(session, rt.config, account, utcnow().date()), offer_policy(rt.config, customer, account)
        ):
            approval = f"{terms.approvals_needed}: " + "; ".join(terms.outside_bounds) if terms.approvals_needed else ""
            table.add_row(
                terms.kind,
                _money(terms.total_minor, account.currency),
                str(terms.installments),
                str(terms.first_due_date),
                terms.interest,
                terms.fees,
                terms.on_kept,
                approval,
            )
    console.print(table)


@offers_app.command("make")
def offers_make(
    account_id: int,
    user: Annotated[str, typer.Option("--as", help="Who makes the offer (never its approver).")],
    kind: Annotated[
        str, typer.Option(help="installment, interest_suspended, settlement, deferral, due_date_change, token")
    ] = "installment",
    months: Annotated[int | None, typer.Option(help="Number of monthly payments.")] = None,
    discount_pct: Annotated[str | None, typer.Option(help="Settlement discount in percent, e.g. 25")] = None,
    defer_days: Annotated[int | None, typer.Option(help="Deferral: days before the first payment.")] = None,
    pay_on: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Due-date change: the new date.")
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Make an offer. Within the bounds it is open at once; outside them an `offer_approval` task waits for one
    approver, or two different ones above the second thresholds (configs/offers.yaml)."""
    from overdue.domain.offers import Request
    from overdue.services.offers import OfferError, make_offer

    request = Request(
        kind=kind,
        months=months,
        discount_pct=Decimal(discount_pct) if discount_pct is not None else None,
        defer_days=defer_days,
        pay_on=pay_on.date() if pay_on else None,
    )
    with refusing(OfferError), unit_of_work(database_url) as (rt, session):
        offer = make_offer(session, rt.config, account_id, request, user, utcnow())
        status, needed, reasons = offer.status, offer.approvals_needed, offer.outside_bounds
    if status == "open":
        console.print(f"Offer {offer.id} is open; the customer may accept it (`overdue offers show {offer.id}`).")
    else:
        why = "; ".join(reasons) or "a settlement above the approval thresholds"
        console.print(f"Offer {offer.id} waits for {needed} approver(s): {why}. See `overdue tasks list`.")


@offers_app.command("show")
def offers_show(
    offer_id: int,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document.")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """An offer's terms: total payable, the schedule, what happens to interest and fees, approval, acceptance."""
    from overdue.domain.validation import public_holidays
    from overdue.services.offers import offer_view
    from overdue.store.tables import Customer

    rt = runtime(database_url)
    with session_scope(rt.database_url) as session:
        offer = session.get(Offer, offer_id)
        if offer is None:
            raise fail(f"No offer {offer_id}.")
        account = _account(session, offer.account_id)
        customer = session.get(Customer, account.customer_id)
        assert customer is not None
        closed = public_holidays(rt.config.policy(customer.jurisdiction).holiday_country)
        view = offer_view(offer, account.currency, closed)
    if as_json:
        print(json.dumps(view, indent=2))
        return
    currency = view["currency"]
    console.print(f"Offer {offer_id} ({view['kind']}, {view['status']}) on account {view['account_id']}")
    total = _money(view["total_payable_minor"], currency)
    written_off = _money(view["discount_minor"], currency)
    console.print(f"  balance {_money(view['balance_minor'], currency)}; total payable {total}")
    console.print(f"  written off when kept: {written_off}")
    console.print(f"  interest: {view['interest']} ({view['interest_means']})")
    console.print(f"  fees: {view['fees']} ({view['fees_means']})")
    console.print(f"  when kept: {view['when_kept']}; expires {view['expires_on']}")
    if view["approvals_needed"]:
        console.print(
            f"  approval: {view['approvals_needed']} person(s); {'; '.join(view['outside_bounds'])}; "
            f"approved by {view['approved_by'] or 'nobody yet'}"
        )
    table = Table("#", "due", "amount")
    for seq, due in enumerate(view["schedule"], 1):
        table.add_row(str(seq), due["due_date"], _money(due["amount_minor"], currency))
    console.print(table)


@offers_app.command("accept")
def offers_accept(
    offer_id: int,
    via: Annotated[str, typer.Option(help="phone, sms, email, in_person or self_service")],
    user: Annotated[str, typer.Option("--by", help="Agent recording the acceptance.")],
    recording: Annotated[str | None, typer.Option(help="Reference of the call recording (required for phone).")] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Record a customer's acceptance of an offer; the plan and its installments are created."""
    from overdue.services.offers import OfferError, accept_offer

    now = utcnow()
    with refusing(OfferError), unit_of_work(database_url) as (rt, session):
        plan = accept_offer(session, rt.config, offer_id, via, user, now.date(), now, recording)
    console.print(f"Offer {offer_id} accepted; plan {plan.id} created.")


# --- promises -----------------------------------------------------------------------------------------------


@promises_app.command("add")
def promises_add(
    account_id: int,
    amount: Annotated[str, typer.Option(help="The amount promised, e.g. 150.00")],
    on: Day,
    user: User,
    source: Annotated[str, typer.Option(help="agent, sms, email or self_service")] = "agent",
    database_url: DatabaseOption = None,
) -> None:
    """Record a promise to pay; it is reminded before the date and judged kept or broken like a plan."""
    from overdue.services.offers import OfferError
    from overdue.services.plans import make_promise

    with refusing(OfferError, ValueError), unit_of_work(database_url) as (rt, session):
        minor = to_minor(amount, _account(session, account_id).currency)
        plan = make_promise(session, rt.config, account_id, minor, on.date(), source, user, utcnow())
    console.print(f"Promise {plan.id} recorded: {amount} by {on.date()}.")


@promises_app.command("list")
def promises_list(
    status: str = "active",
    account: Annotated[int | None, typer.Option(help="Account id.")] = None,
    limit: int = 50,
    database_url: DatabaseOption = None,
) -> None:
    """Promises to pay (default: active ones; kept, broken, replaced)."""
    from overdue.store.tables import Installment

    query = (
        sa.select(PaymentPlan, Installment, col(Account.currency))
        .join(Installment, col(Installment.plan_id) == col(PaymentPlan.id))
        .join(Account, col(Account.id) == col(PaymentPlan.account_id))
        .where(col(PaymentPlan.kind) == "promise", col(PaymentPlan.status) == status)
        .order_by(col(PaymentPlan.id))
        .limit(limit)
    )
    if account:
        query = query.where(col(PaymentPlan.account_id) == account)
    table = Table("id", "account", "amount", "by", "paid", "status", "taken by")
    with session_scope(runtime(database_url).database_url) as session:
        for plan, item, currency in session.execute(query):
            table.add_row(
                str(plan.id),
                str(plan.account_id),
                _money(item.amount_minor, currency),
                str(item.due_date),
                _money(item.paid_minor, currency),
                plan.status,
                plan.created_by or "",
            )
    console.print(table)
