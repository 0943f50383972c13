"""Letters from the outbox as PDF files: made on demand, found by `outbox show`, and a letter to a relative that
gives nothing away."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner, Result

from overdue.channels.context import message_context
from overdue.channels.letters.pdf import Letterhead, render_pdf
from overdue.cli import app
from overdue.runtime import Runtime
from overdue.services.letters import letter_of
from overdue.settings import get_settings
from overdue.store.db import session_scope
from overdue.store.tables import Customer, OutreachMessage
from tests.support import add_account, add_message, make_runtime, pdf_fonts, pdf_text, run_day


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "1000"})


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "data"
    monkeypatch.setenv("OVERDUE_DATA_DIR", str(folder))
    get_settings.cache_clear()
    yield folder
    get_settings.cache_clear()


def queued_notice(url: str) -> tuple[int, int, int]:
    """A US account whose first collection contact (the pre-due text) queued its validation notice letter:
    the account's id, the text's and the letter's."""
    with session_scope(url) as session:
        account = add_account(session, "pdf", due_date=date(2026, 2, 13))
        run_day(session, make_runtime(url), date(2026, 2, 10))
        query = select(OutreachMessage).where(OutreachMessage.account_id == account.id)
        ids = {m.channel: m.id for m in session.exec(query)}
        return account.id, ids["sms"], ids["letter"]  # type: ignore[return-value]


def test_a_queued_letter_becomes_a_pdf_on_demand_where_outbox_show_says(sqlite_url: str, data_dir: Path) -> None:
    account_id, _, message_id = queued_notice(sqlite_url)
    expected = data_dir / "letters" / f"validation_{account_id}_2026-02-10.pdf"  # its key validation:ID:day

    before = invoke("outbox", "show", str(message_id), "--database-url", sqlite_url)
    assert before.exit_code == 0, before.output
    assert f"PDF: not made yet: `overdue letters render {message_id}` writes {expected}" in before.output

    made = invoke("letters", "render", str(message_id), "--database-url", sqlite_url)
    assert made.exit_code == 0, made.output
    assert f"Letter {message_id}: {expected}" in made.output
    pdf = expected.read_bytes()
    assert all(pdf_fonts(pdf).values())
    text = pdf_text(pdf)
    for item in ("Northwind Demo Bank", "Test Person", "1 Main St", "is a debt collector", "$1,075.00"):
        assert item in text, item
    assert "Date: February 10, 2026" in text  # the day it is sent, in the customer's time zone
    assert f"Reference: ****-pdf-{message_id}" in text

    after = invoke("outbox", "show", str(message_id), "--database-url", sqlite_url)
    assert f"PDF: {expected}" in after.output


def test_letters_render_writes_where_told_and_refuses_what_is_not_a_letter(sqlite_url: str, tmp_path: Path) -> None:
    _, sms_id, message_id = queued_notice(sqlite_url)
    out = tmp_path / "notice.pdf"
    made = invoke("letters", "render", str(message_id), "--output", str(out), "--database-url", sqlite_url)
    assert made.exit_code == 0, made.output
    assert "Test Person" in pdf_text(out.read_bytes())

    sms = invoke("letters", "render", str(sms_id), "--database-url", sqlite_url)
    assert sms.exit_code == 1
    assert f"message {sms_id} is not a letter" in sms.output
    both = invoke(
        "letters", "render", str(message_id), str(message_id), "--output", str(out), "--database-url", sqlite_url
    )
    assert both.exit_code == 1
    assert "--output names one file" in both.output


def test_a_letter_to_a_relative_names_neither_the_business_nor_the_account(session: Session, runtime: Runtime) -> None:
    account = add_account(session, "locate", due_date=date(2026, 2, 13))
    customer = session.get(Customer, account.customer_id)
    assert customer is not None
    body = runtime.renderer.render("locate", "letter", "en-US", message_context(runtime.sender, customer, account)).body
    at = datetime(2026, 3, 2, 15, tzinfo=UTC)
    fields = {"channel": "letter", "template": "locate", "step": "locate", "purpose": "locate", "body": body}
    message = add_message(session, account, at, address="Li Na, 9 Side St, Springfield", **fields)
    letter = letter_of(session, runtime.sender, message)
    assert letter.letterhead == Letterhead(None, None, runtime.sender.callback_phone)
    assert letter.recipient == ("Li Na", "9 Side St", "Springfield")  # not addressed to the debtor
    assert letter.reference == str(message.id)
    text = pdf_text(render_pdf(letter, runtime.settings.letter_font))
    assert "Test Person" in text  # whom to pass our number to, and nothing more
    assert runtime.sender.callback_phone in text
    for secret in (runtime.sender.business_name, runtime.sender.address, "****", "A-locate"):
        assert secret not in text, secret
