"""What customers tell us about contacting them, and the conversations agents have with them."""

from __future__ import annotations

import mimetypes
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer
from rich.table import Table
from sqlmodel import col

from overdue.cli.common import DatabaseOption, console, refusing, runtime, unit_of_work, utcnow
from overdue.domain.masking import mask_address
from overdue.store.db import session_scope
from overdue.store.tables import Account, ContactPoint

contacts_app = typer.Typer(
    help="Contact points, opt-outs, consent and conversations (each recorded in the audit trail).",
    no_args_is_help=True,
)
User = Annotated[str, typer.Option("--as", help="Who records it.")]
Channel = Annotated[str, typer.Option(help="sms, voice, email or letter.")]
Source = Annotated[str, typer.Option(help="How the customer told us: 'phone call', 'letter', 'STOP reply', ...")]


@contacts_app.command("list")
def contacts_list(account_id: int, database_url: DatabaseOption = None) -> None:
    """The contact points of the account's customer and of the people around them, masked."""
    table = Table("id", "channel", "address", "party", "consent", "opted out", "invalid")
    with session_scope(runtime(database_url).database_url) as session:
        query = (
            sa.select(ContactPoint)
            .join(Account, col(Account.customer_id) == col(ContactPoint.customer_id))
            .where(col(Account.id) == account_id)
            .order_by(col(ContactPoint.id))
        )
        for p in session.scalars(query):
            party = p.party + (f" ({p.relation})" if p.relation else "")
            table.add_row(
                str(p.id),
                p.channel,
                mask_address(p.address, p.channel),
                party,
                "yes" if p.consent else "no",
                str(p.opted_out_at.date()) if p.opted_out_at else "",
                str(p.invalid_at.date()) if p.invalid_at else "",
            )
    console.print(table)


@contacts_app.command("add")
def contacts_add(
    account_id: int,
    channel: Channel,
    address: Annotated[str, typer.Option(help="Phone (E.164 or national), email or postal address.")],
    user: User,
    party: Annotated[str, typer.Option(help="debtor, guarantor or third_party.")] = "debtor",
    relation: Annotated[str | None, typer.Option(help="For a third party: sister, friend, ...")] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Add a way to reach the customer, or someone who can pass on a message when they cannot be reached."""
    from overdue.services.contact_preferences import PreferenceError, add_contact_point

    with refusing(PreferenceError), unit_of_work(database_url) as (rt, session):
        point = add_contact_point(session, rt.config, account_id, channel, address, party, relation, user, utcnow())
    console.print(f"Contact point {point.id} ({channel}, {party}) added.")


@contacts_app.command("opt-out")
def contacts_opt_out(
    account_id: int, channel: Channel, source: Source, user: User, database_url: DatabaseOption = None
) -> None:
    """The customer asked us not to use a channel: no contact on it from now on, on any of their accounts."""
    from overdue.services.contact_preferences import PreferenceError, opt_out

    with refusing(PreferenceError), unit_of_work(database_url) as (_, session):
        changed = opt_out(session, account_id, channel, source, user, utcnow())
    console.print(f"Opted out of {channel}." if changed else f"Already opted out of {channel}; nothing changed.")


@contacts_app.command("opt-in")
def contacts_opt_in(
    account_id: int, channel: Channel, source: Source, user: User, database_url: DatabaseOption = None
) -> None:
    """The customer asked to be contacted on a channel again."""
    from overdue.services.contact_preferences import PreferenceError, opt_in

    with refusing(PreferenceError), unit_of_work(database_url) as (_, session):
        changed = opt_in(session, account_id, channel, source, user, utcnow())
    console.print(f"Opted back in to {channel}." if changed else f"Not opted out of {channel}; nothing changed.")


@contacts_app.command("consent")
def contacts_consent(
    account_id: int,
    channel: Channel,
    source: Source,
    user: User,
    grant: Annotated[bool, typer.Option("--grant/--revoke", help="Consent to automated calls or texts.")],
    database_url: DatabaseOption = None,
) -> None:
    """Record consent to automated calls or texts, given or revoked; the audit trail keeps the history."""
    from overdue.services.contact_preferences import PreferenceError, set_consent

    with refusing(PreferenceError), unit_of_work(database_url) as (_, session):
        changed = set_consent(session, account_id, channel, grant, source, user, utcnow())
    state = "given" if grant else "revoked"
    console.print(f"Consent on {channel} {state}." if changed else f"Consent on {channel} was already {state}.")


@contacts_app.command("conversation")
def contacts_conversation(
    account_id: int,
    channel: Annotated[str, typer.Option(help="voice, sms, email or in_person.")],
    outcome: Annotated[str, typer.Option(help="promise_to_pay, hardship, dispute, refused, wrong_party, ...")],
    user: User,
    at: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"], help="When it happened, UTC (default: now)."),
    ] = None,
    note: Annotated[str, typer.Option(help="What was said; no card or ID numbers.")] = "",
    right_party: Annotated[
        bool, typer.Option("--right-party/--not-right-party", help="Spoke with the debtor, or with someone else.")
    ] = True,
    promised_on: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="A promise to pay: the promised day.")
    ] = None,
    promised_amount: Annotated[str | None, typer.Option(help="A promise to pay: the amount (major units).")] = None,
    document: Annotated[
        list[Path] | None,
        typer.Option(
            exists=True, dir_okay=False, help="Evidence the customer sent (repeatable), for a dispute or hardship."
        ),
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Log a conversation; a right-party telephone one stops calls on this debt for the policy's cool-off. A
    dispute places the dispute hold and opens a dispute review, a hardship report a hardship review, each with
    the documents attached (sealed)."""
    from overdue.domain.money import to_minor
    from overdue.services.agent_calls import CallReport, Document, log_call
    from overdue.services.conversations import ConversationError
    from overdue.services.holds import HoldError
    from overdue.services.tasks import TaskError

    now = utcnow()
    documents = tuple(
        Document(path.name, mimetypes.guess_type(path.name)[0] or "application/octet-stream", path.read_bytes())
        for path in document or ()
    )
    with refusing(ConversationError, HoldError, TaskError, ValueError), unit_of_work(database_url) as (rt, session):
        account = session.get(Account, account_id)
        promised_minor = to_minor(promised_amount, account.currency) if account and promised_amount else None
        report = CallReport(
            account_id,
            at.replace(tzinfo=UTC) if at else now,
            outcome,
            note,
            right_party,
            promised_on.date() if promised_on else None,
            promised_minor,
            documents,
            channel,
        )
        logged = log_call(session, rt, report, user, now)
        conversation = logged.conversation
        review = f" Review task {logged.review.id} opened." if logged.review else ""
        hold = f" Dispute hold {logged.hold_id} placed: collection stops." if logged.hold_id else ""
    console.print(f"Conversation {conversation.id} recorded on account {account_id}.{hold}{review}")
