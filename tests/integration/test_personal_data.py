"""Personal data on SQLite and PostgreSQL: sealed at rest, masked on screen, revealed only with a reason."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from overdue.domain.check_digits import cn_id_complete, luhn_valid
from overdue.runtime import Runtime
from overdue.services.personal_data import (
    MaskedDetails,
    PersonalField,
    RevealRefused,
    masked_details,
    reveal,
    rotate_sealed,
)
from overdue.sim.portfolio import PortfolioSpec, generate_portfolio
from overdue.store.db import get_engine, session_scope
from overdue.store.sealed import Vault, new_key
from overdue.store.tables import Account, AuditEvent, Customer
from tests.integration.test_cli import invoke
from tests.integration.test_imports import ACCOUNTS_HEADER, load_accounts, rejected_accounts, row_counts, write
from tests.support import NOW

HEADER = ACCOUNTS_HEADER + ",national_id,card_number,bank_account"
ANN = "C-1,Ann Lee,America/Denver,en-US,US,credit_card,USD,100,0,0,2026-01-31,+1 212 555 0123,ann@example.com,,yes"
REASON = "Customer asked to confirm the card on file"


def stored_text(url: str) -> str:
    """Every value of every customer and account row, read with plain SQL: what a database dump would show."""
    with get_engine(url).connect() as connection:
        rows = [
            *connection.execute(sa.text("SELECT * FROM customer")),
            *connection.execute(sa.text("SELECT * FROM account")),
        ]
    return "\n".join(" ".join(str(value) for value in row) for row in rows)


def account_id(session: Session, ref: str) -> int:
    return session.exec(select(col(Account.id)).where(col(Account.external_ref) == ref)).one()  # type: ignore[return-value]


def reveals(session: Session) -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).where(col(AuditEvent.kind) == "pii.revealed")))


def test_imported_numbers_are_sealed_at_rest(database_url: str, runtime: Runtime, tmp_path: Path) -> None:
    path = write(tmp_path / "pii.csv", HEADER, f"A-1,{ANN},900-12-3456,4111 1111 1111 1111,GB82 WEST 1234 5698 7654 32")
    assert load_accounts(database_url, path) == (1, 0)

    dump = stored_text(database_url)
    for plain in ("900123456", "900-12-3456", "4111111111111111", "4111 1111", "GB82WEST12345698765432", "698765432"):
        assert plain not in dump
    with session_scope(database_url) as session:
        customer = session.exec(select(Customer)).one()
        account = session.exec(select(Account)).one()
    assert (customer.national_id_last4, account.card_number_last4, account.bank_account_last4) == (
        "3456",
        "1111",
        "5432",
    )
    assert customer.national_id_sealed is not None
    assert account.card_number_sealed is not None
    assert account.bank_account_sealed is not None
    assert runtime.vault.open(customer.national_id_sealed) == "900123456"
    assert runtime.vault.open(account.card_number_sealed) == "4111111111111111"
    assert runtime.vault.open(account.bank_account_sealed) == "GB82WEST12345698765432"


def test_bad_numbers_are_named_by_line_and_field_masked_and_nothing_is_written(
    database_url: str, tmp_path: Path
) -> None:
    path = write(
        tmp_path / "bad.csv",
        HEADER,
        f"A-1,{ANN},900-12-3456,4111 1111 1111 1111,",
        f"A-2,{ANN.replace('C-1', 'C-2')},,4111 1111 1111 1112,",
        f"A-3,{ANN.replace('C-1', 'C-3')},,,12AB",
        f"A-4,{ANN},900-12-9999,,000123456789",
        f"A-5,{ANN.replace('C-1', 'C-5')},12-3,,GB82 WEST 1234 5698 7654 23",
    )
    rejected = rejected_accounts(database_url, path)

    assert {(p.line, p.field) for p in rejected.problems} == {
        (3, "card_number"),
        (4, "bank_account"),
        (5, "national_id"),
        (6, "national_id"),
        (6, "bank_account"),
    }
    report = str(rejected)
    assert f"{path}:3: field 'card_number': '****1112' fails the card number's check digit" in report
    assert f"{path}:5: field 'national_id': customer 'C-1' has '****3456' on line 2" in report
    assert f"{path}:6: field 'bank_account': '****5423' fails the IBAN check digits" in report
    for plain in ("4111111111111112", "1111 1112", "900-12-9999", "900129999", "900123456", "12345698765423"):
        assert plain not in report
    assert set(row_counts(database_url).values()) == {0}


def test_a_national_id_must_match_the_customer_on_record(database_url: str, tmp_path: Path) -> None:
    load_accounts(database_url, write(tmp_path / "first.csv", HEADER, f"A-1,{ANN},900-12-3456,,"))

    other = write(tmp_path / "other.csv", HEADER, f"A-2,{ANN},900-12-9999,,")
    [problem] = rejected_accounts(database_url, other).problems
    assert (problem.line, problem.field) == (2, "national_id")
    assert "on record with another ID number (****3456)" in problem.message
    assert "9999" not in problem.message

    assert load_accounts(database_url, write(tmp_path / "same.csv", HEADER, f"A-3,{ANN},900 12 3456,,")) == (1, 0)
    assert load_accounts(database_url, write(tmp_path / "none.csv", HEADER, f"A-4,{ANN},,,")) == (1, 0)


def test_screens_get_masked_values_only(session: Session, database_url: str) -> None:
    load_accounts(database_url)
    maria, wang = account_id(session, "A-US-1001"), account_id(session, "A-CN-2002")
    details = masked_details(session, [maria, wang])
    assert details[maria] == MaskedDetails(
        phone="+1***47", email="m***@example.com", national_id="****3456", card_number="****1111", bank_account=None
    )
    assert details[wang] == MaskedDetails(
        phone="+8***78", email=None, national_id="****0029", card_number=None, bank_account="****2345"
    )


def test_a_reveal_is_recorded_with_who_which_field_and_why_never_the_value(session: Session, runtime: Runtime) -> None:
    load_accounts(runtime.database_url)
    maria = account_id(session, "A-US-1001")

    card = reveal(session, runtime.vault, maria, PersonalField.CARD_NUMBER, " ops.ann ", f"  {REASON} ", NOW)
    phone = reveal(session, runtime.vault, maria, PersonalField.PHONE, "ops.ann", "Calling back as agreed", NOW)

    assert (card, phone) == ("4111111111111111", "+13125550147")
    recorded = reveals(session)
    assert [(e.actor, e.account_id, e.ts, e.data) for e in recorded] == [
        ("ops.ann", maria, NOW, {"field": "card_number", "reason": REASON}),
        ("ops.ann", maria, NOW, {"field": "phone", "reason": "Calling back as agreed"}),
    ]
    assert "4111" not in str([e.data for e in recorded])


@pytest.mark.parametrize(
    ("ref", "field", "actor", "reason", "message"),
    [
        ("A-US-1001", PersonalField.CARD_NUMBER, "ops.ann", "", "a reason of at least 5 characters is required"),
        ("A-US-1001", PersonalField.CARD_NUMBER, "ops.ann", " why ", "a reason of at least 5 characters is required"),
        ("A-US-1001", PersonalField.NATIONAL_ID, "  ", REASON, "say who is revealing it"),
        ("A-US-1001", PersonalField.BANK_ACCOUNT, "ops.ann", REASON, "has no bank account on record"),
        ("A-US-1004", PersonalField.EMAIL, "ops.ann", REASON, "has no email on record"),
    ],
)
def test_a_refused_reveal_records_nothing(
    session: Session, runtime: Runtime, ref: str, field: PersonalField, actor: str, reason: str, message: str
) -> None:
    load_accounts(runtime.database_url)
    with pytest.raises(RevealRefused, match=message):
        reveal(session, runtime.vault, account_id(session, ref), field, actor, reason, NOW)
    with pytest.raises(RevealRefused, match="account 999999 does not exist"):
        reveal(session, runtime.vault, 999_999, field, "ops.ann", REASON, NOW)
    assert reveals(session) == []


def test_rotating_keys_reseals_every_value_once(session: Session, runtime: Runtime) -> None:
    load_accounts(runtime.database_url)
    assert runtime.settings.data_keys is not None
    new = new_key()
    rotated = Vault([new, runtime.settings.data_keys.get_secret_value()])

    assert rotate_sealed(session, rotated, batch=3) == 10  # 4 national IDs, 4 cards, 2 bank accounts
    assert rotate_sealed(session, rotated, batch=3) == 0

    only_new = Vault([new])
    customers = session.exec(select(Customer).where(col(Customer.national_id_sealed).is_not(None))).all()
    accounts = session.exec(select(Account)).all()
    tokens = [c.national_id_sealed for c in customers]
    tokens += [t for a in accounts for t in (a.card_number_sealed, a.bank_account_sealed) if t]
    opened = [only_new.open(t) for t in tokens if t]
    assert len(opened) == 10
    assert "4111111111111111" in opened


def test_the_simulated_portfolio_has_fake_sealed_numbers(database_url: str, runtime: Runtime) -> None:
    with session_scope(database_url) as session:
        generate_portfolio(session, PortfolioSpec(accounts=40, seed=3, start=date(2026, 1, 5)), runtime.vault)
    with session_scope(database_url) as session:
        customers = session.exec(select(Customer)).all()
        accounts = session.exec(select(Account)).all()
    dump = stored_text(database_url)
    for customer in customers:
        assert customer.national_id_sealed is not None
        number = runtime.vault.open(customer.national_id_sealed)
        assert (number[-4:], number in dump) == (customer.national_id_last4, False)
        if customer.jurisdiction == "CN":
            assert number.startswith("99"), "no region code starts with 99"
            assert number == cn_id_complete(number[:17])
        else:
            assert (number[0], len(number)) == ("9", 9), "no SSN starts with 9"
    for account in accounts:
        assert account.bank_account_sealed is not None
        assert runtime.vault.open(account.bank_account_sealed).startswith("0000")
        if account.product == "credit_card":
            assert account.card_number_sealed is not None
            card = runtime.vault.open(account.card_number_sealed)
            assert (card[:6], luhn_valid(card), card in dump) == ("411111", True, False)
        else:
            assert (account.card_number_sealed, account.card_number_last4) == (None, None)


def test_the_command_line_shows_masked_and_reveals_with_a_reason(sqlite_url: str) -> None:
    load_accounts(sqlite_url)
    with session_scope(sqlite_url) as session:
        maria = str(account_id(session, "A-US-1001"))

    shown = invoke("pii", "show", maria, "--database-url", sqlite_url)
    assert shown.exit_code == 0, shown.output
    assert "****1111" in shown.output
    assert "4111111111111111" not in shown.output

    reveal_args = ("pii", "reveal", maria, "--field", "card_number", "--database-url", sqlite_url)
    unnamed = invoke(*reveal_args, "--reason", REASON)
    assert unnamed.exit_code == 2
    assert "--as" in unnamed.output
    short = invoke(*reveal_args, "--reason", "why", "--as", "ops.ann")
    assert short.exit_code == 1
    assert "a reason of at least 5 characters is required" in short.output
    revealed = invoke(*reveal_args, "--reason", REASON, "--as", "ops.ann")
    assert revealed.exit_code == 0, revealed.output
    assert "Card number: 4111111111111111" in revealed.output
    with session_scope(sqlite_url) as session:
        assert [(e.actor, e.data["reason"]) for e in reveals(session)] == [("ops.ann", REASON)]

    rotated = invoke("pii", "rotate-keys", "--database-url", sqlite_url)
    assert rotated.exit_code == 0, rotated.output
    assert "Re-sealed 0 value(s)" in rotated.output, "everything is already under the only key"
    key = invoke("pii", "new-key").output.strip()
    assert Vault([key]).open(Vault([key]).seal("x")) == "x"
