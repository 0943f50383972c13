"""Letters as PDF files, made on demand from outbox messages.

A letter's wording is its rendered template, stored as the message body; the facts around it (letterhead,
recipient, date, reference) come from the settings and the database. PDFs are made when someone asks
(`overdue letters render`, `overdue templates preview --pdf`) or a print channel sends one, not in the
dry-run path: a letter takes 10-25 ms and ~15-60 kB, which the demo's ~2,500 letters would turn into
half a minute and over 100 MB that nobody reads (benchmarks/RESULTS.md).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, col

from overdue.channels.context import Sender
from overdue.channels.letters.pdf import Letter, Letterhead, render_pdf
from overdue.domain.contact_window import local_date
from overdue.domain.guard import LOCATE
from overdue.domain.masking import mask_tail
from overdue.store.tables import Account, ContactPoint, Customer, OutreachMessage

LETTERS_FOLDER = "letters"
SAMPLE_ADDRESS = {"en-US": "742 Evergreen Terrace, Springfield, IL 62704", "zh-CN": "北京市朝阳区建国路88号, 100022"}


class LetterNotFound(LookupError):
    pass


def letter_message(session: Session, message_id: int) -> OutreachMessage:
    message = session.get(OutreachMessage, message_id)
    if message is None or message.channel != "letter":
        raise LetterNotFound(f"message {message_id} is not a letter")
    return message


def letter_of(session: Session, sender: Sender, message: OutreachMessage) -> Letter:
    """The letter an outbox message is, dated the customer-local day it was (or will be) sent."""
    customer = session.get(Customer, message.customer_id)
    account = session.get(Account, message.account_id)
    assert customer is not None
    assert account is not None
    at = message.sent_at or message.send_at
    assert at is not None
    return compose(
        sender,
        account,
        customer,
        to_third_party=message.purpose == LOCATE,
        message_id=message.id,
        dated=local_date(at, customer.time_zone),
        address=message.address,
        body=message.body,
    )


def compose(
    sender: Sender,
    account: Account,
    customer: Customer,
    *,
    to_third_party: bool,
    message_id: int | None,
    dated: date,
    address: str,
    body: str,
) -> Letter:
    """The facts around a letter's wording. One to a relative or contact (`locate`) names neither the
    business nor the account nor the debtor as addressee: its letterhead is the callback number and its
    reference the message id alone."""
    number = str(message_id) if message_id is not None else "PREVIEW"
    if to_third_party:
        head, ref, recipient = Letterhead(None, None, sender.callback_phone), number, recipient_block(None, address)
    else:
        head = Letterhead(sender.business_name, sender.address or None, sender.callback_phone)
        ref, recipient = f"{mask_tail(account.external_ref)}-{number}", recipient_block(customer.full_name, address)
    return Letter(customer.locale, head, ref, dated, recipient, body)


def recipient_block(name: str | None, address: str) -> tuple[str, ...]:
    """The addressee's name, then the address one part per line (parts are comma-separated, as imported)."""
    parts = [part.strip() for part in re.split(r"[,，\n]", address) if part.strip()]
    if name and parts and parts[0] == name:
        parts = parts[1:]  # the synthetic portfolio writes the name into the address
    return ((name,) if name else ()) + tuple(parts)


def postal_address(session: Session, customer_id: int) -> str | None:
    """The customer's first usable postal address."""
    return session.scalars(
        sa.select(col(ContactPoint.address))
        .where(
            col(ContactPoint.customer_id) == customer_id,
            col(ContactPoint.channel) == "letter",
            col(ContactPoint.party) == "debtor",
            col(ContactPoint.invalid_at).is_(None),
        )
        .order_by(col(ContactPoint.id))
    ).first()


def letter_path(data_dir: Path, message: OutreachMessage) -> Path:
    """Where a message's PDF goes by default: var/letters/<idempotency key>.pdf, made safe as a file name."""
    return data_dir / LETTERS_FOLDER / (re.sub(r"[^A-Za-z0-9._-]", "_", message.idempotency_key) + ".pdf")


def write_letter(session: Session, sender: Sender, font: Path, message: OutreachMessage, path: Path) -> Path:
    pdf = render_pdf(letter_of(session, sender, message), font)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pdf)
    return path
