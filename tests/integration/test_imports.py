"""CSV imports on SQLite and PostgreSQL: the examples import, re-imports change nothing, and a file with
any problem reports every one of them and writes nothing at all."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel, col, select

from overdue.services.imports import ImportProblem, ImportRejected, import_accounts, import_payments
from overdue.store.db import session_scope
from overdue.store.tables import Account, AuditEvent, ContactPoint, Customer, Payment
from tests.support import NOW, make_runtime

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ACCOUNTS_HEADER = (
    "account_ref,customer_ref,full_name,time_zone,locale,jurisdiction,product,currency,"
    "principal,interest,fees,due_date,phone,email,postal_address,consent_automated"
)
PAYMENTS_HEADER = "payment_ref,account_ref,amount,currency,received_on"


def row_counts(url: str) -> dict[str, int]:
    """Rows in every table: the proof that a rejected file wrote nothing anywhere."""
    with session_scope(url) as session:
        return {
            table.name: session.scalar(sa.select(sa.func.count()).select_from(table)) or 0
            for table in SQLModel.metadata.sorted_tables
        }


def load_accounts(url: str, path: Path = EXAMPLES / "accounts.csv") -> tuple[int, int]:
    runtime = make_runtime(url)
    with session_scope(url) as session:
        result = import_accounts(session, runtime.config, runtime.vault, path, NOW)
    return result.created, result.already_present


def load_payments(url: str, path: Path = EXAMPLES / "payments.csv") -> tuple[int, int]:
    with session_scope(url) as session:
        result = import_payments(session, make_runtime(url).config, path, NOW)
    return result.created, result.already_present


def rejected_accounts(url: str, path: Path) -> ImportRejected:
    runtime = make_runtime(url)
    with pytest.raises(ImportRejected) as caught, session_scope(url) as session:
        import_accounts(session, runtime.config, runtime.vault, path, NOW)
    return caught.value


def rejected_payments(url: str, path: Path) -> ImportRejected:
    with pytest.raises(ImportRejected) as caught, session_scope(url) as session:
        import_payments(session, make_runtime(url).config, path, NOW)
    return caught.value


def write(path: Path, *lines: str, encoding: str = "utf-8") -> Path:
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return path


def where(problems: tuple[ImportProblem, ...]) -> set[tuple[int, str]]:
    return {(p.line, p.field) for p in problems}


def test_example_accounts_import_with_customers_contacts_and_audit(database_url: str) -> None:
    assert load_accounts(database_url) == (6, 0)
    with session_scope(database_url) as session:
        accounts = {a.external_ref: a for a in session.exec(select(Account))}
        customers = {c.id: c for c in session.exec(select(Customer))}
        contacts = {(c.customer_id, c.channel): c for c in session.exec(select(ContactPoint))}
        audits = list(session.exec(select(AuditEvent).where(AuditEvent.kind == "account.imported")))
    assert len(accounts) == 6
    assert len(customers) == 5, "one customer holds two accounts"
    assert accounts["A-US-1001"].customer_id == accounts["A-US-1002"].customer_id

    first = accounts["A-US-1001"]
    assert (first.principal_minor, first.interest_minor, first.fees_minor) == (185_000, 9_250, 3_500)
    assert first.placed_balance_minor == 197_750
    assert first.stage == "current"
    assert first.dpd == (NOW.date() - date(2026, 1, 15)).days
    maria = customers[first.customer_id]
    assert (maria.full_name, maria.time_zone, maria.locale, maria.jurisdiction) == (
        "Maria Garcia",
        "America/Chicago",
        "en-US",
        "US",
    )
    assert contacts[(first.customer_id, "sms")].address == "+13125550147"
    assert contacts[(first.customer_id, "voice")].address == "+13125550147"
    assert contacts[(first.customer_id, "sms")].consent

    james = accounts["A-US-1003"].customer_id
    assert not contacts[(james, "sms")].consent, "consent_automated 'no' applies to sms and voice"
    assert not contacts[(james, "voice")].consent
    assert contacts[(james, "email")].consent
    assert (james, "letter") not in contacts

    wang = accounts["A-CN-2001"]
    assert wang.currency == "CNY"
    assert contacts[(wang.customer_id, "sms")].address == "+8613800138000", "a national number gets +86"
    assert customers[wang.customer_id].full_name == "王芳"

    assert {a.data["ref"] for a in audits} == set(accounts)
    assert {a.actor for a in audits} == {"import:accounts.csv"}


def test_reimporting_the_same_file_changes_nothing(database_url: str) -> None:
    load_accounts(database_url)
    before = row_counts(database_url)
    assert load_accounts(database_url) == (0, 6)
    assert row_counts(database_url) == before


def test_a_new_account_for_a_customer_on_record_joins_that_customer(database_url: str, tmp_path: Path) -> None:
    load_accounts(database_url)
    path = write(
        tmp_path / "more.csv",
        ACCOUNTS_HEADER,
        "A-US-1009,C-US-501,Maria Garcia,America/Chicago,en-US,US,auto_loan,USD,900,0,0,2026-03-01,,,,",
    )
    assert load_accounts(database_url, path) == (1, 0)
    with session_scope(database_url) as session:
        customer_ids = set(session.exec(select(Account.customer_id).where(col(Account.external_ref).like("A-US-100%"))))
        assert session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 5
    assert len(customer_ids) == 3


def test_a_file_with_errors_reports_every_line_and_field_and_writes_nothing(database_url: str, tmp_path: Path) -> None:
    load_accounts(database_url)
    before = row_counts(database_url)
    path = write(
        tmp_path / "bad.csv",
        ACCOUNTS_HEADER,
        "A-9001,C-9001,Ann Lee,America/Denver,en-US,US,credit_card,USD,100.00,1.00,0,2026-01-31,,ann@example.com,,no",
        "A-9002,C-9002,Bo Li,Mars/Olympus,zh-CN,CN,credit_card,ABC,100,0,0,2026-01-31,,,,",
        "A-9003,C-9003,Cy Day,America/Denver,en-US,US,credit_card,USD,12.345,0,0,03/01/2026,12345,,,",
        "A-9001,C-9004,Di Fox,America/Denver,en-US,US,credit_card,USD,1,0,0,2026-01-31,,,,",
        "A-9005,C-9001,Ann B. Lee,America/Denver,en-US,US,credit_card,USD,1,0,0,2026-01-31,,ann@example.com,,no",
        "A-9006,C-9006,Ed Ng,America/Denver,fr-FR,usa,credit_card,USD,1,0,0,2026-01-31,,not an email,,maybe",
        ",C-9007,Flo Po,America/Denver,en-US,US,credit_card,USD,1,0,-1.00,2026-01-31,,,,",
        "A-9008,C-US-501,Maria Smith,America/Chicago,en-US,US,credit_card,USD,1,0,0,2026-01-31,,,,",
        "A-9009,C-9009,Gus Roe,America/Denver,en-US,US,credit_card,USD,1,0,0,2026-01-31,,,,,extra",
        "A-9010,C-9010,Hal Ito,Europe/Berlin,en-US,DE,credit_card,USD,1,0,0,2026-01-31,,,,",
    )
    problems = rejected_accounts(database_url, path)

    assert where(problems.problems) == {
        (3, "time_zone"),
        (3, "currency"),
        (4, "principal"),
        (4, "due_date"),
        (4, "phone"),
        (5, "account_ref"),
        (6, "full_name"),
        (7, "locale"),
        (7, "jurisdiction"),
        (7, "email"),
        (7, "consent_automated"),
        (8, "account_ref"),
        (8, "fees"),
        (9, "full_name"),
        (10, "(row)"),
        (11, "jurisdiction"),  # well formed, but no policy file says how to collect there
    }
    report = str(problems).splitlines()
    assert report[0] == f"{path}: 16 problem(s); nothing was imported."
    assert f"{path}:4: field 'principal': '12.345' has more decimals than USD allows" in report
    assert f"{path}:5: field 'account_ref': 'A-9001' is already on line 2" in report
    assert any(line.startswith(f"{path}:9: field 'full_name': customer 'C-US-501' is on record") for line in report)
    assert [int(line.split(":")[1]) for line in report[1:]] == sorted(p.line for p in problems.problems)
    assert row_counts(database_url) == before


def test_a_bad_header_names_the_missing_and_unknown_columns(database_url: str, tmp_path: Path) -> None:
    path = write(
        tmp_path / "header.csv",
        ACCOUNTS_HEADER.replace(",currency", "").replace("email", "emial"),
        "A-1,C-1,Ann Lee,America/Denver,en-US,US,credit_card,100,0,0,2026-01-31,,a@example.com,,",
    )
    problems = rejected_accounts(database_url, path).problems
    assert set(problems) == {
        ImportProblem(1, "currency", "required column is missing"),
        ImportProblem(1, "emial", "unknown column"),
    }
    assert row_counts(database_url)["account"] == 0


def test_an_empty_or_missing_file_is_rejected(database_url: str, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    [problem] = rejected_accounts(database_url, empty).problems
    assert (problem.line, problem.field) == (1, "(file)")
    assert "empty" in problem.message

    missing = tmp_path / "missing.csv"
    assert rejected_payments(database_url, missing).problems == (ImportProblem(0, "(file)", "file not found"),)


def test_blank_lines_keep_their_line_numbers_and_a_header_only_file_imports_nothing(
    database_url: str, tmp_path: Path
) -> None:
    load_accounts(database_url)
    spaced = write(tmp_path / "spaced.csv", PAYMENTS_HEADER, "", "P-1,A-US-1001,1.00,usd,2026-02-20")
    assert where(rejected_payments(database_url, spaced).problems) == {(3, "currency")}
    assert load_payments(database_url, write(tmp_path / "header.csv", PAYMENTS_HEADER)) == (0, 0)


def test_an_excel_file_with_a_byte_order_mark_imports(database_url: str, tmp_path: Path) -> None:
    path = write(
        tmp_path / "excel.csv",
        ACCOUNTS_HEADER,
        "A-1,C-1,张伟,Asia/Shanghai,zh-CN,CN,credit_card,CNY,5000,0,0,2026-02-01,13912345678,,,1",
        encoding="utf-8-sig",
    )
    assert load_accounts(database_url, path) == (1, 0)


def test_payments_are_allocated_and_a_reimport_changes_nothing(database_url: str) -> None:
    load_accounts(database_url)
    assert load_payments(database_url) == (3, 0)
    with session_scope(database_url) as session:
        accounts = {a.external_ref: a for a in session.exec(select(Account))}
        payments = {p.payment_ref: p for p in session.exec(select(Payment))}
    us = accounts["A-US-1001"]  # US order: fees, interest, principal; 500.00 against 35.00 + 92.50 + 1850.00
    assert (us.fees_minor, us.interest_minor, us.principal_minor) == (0, 0, 147_750)
    first = payments["PAY-20260220-0001"]
    assert (first.to_fees_minor, first.to_interest_minor, first.to_principal_minor) == (3_500, 9_250, 37_250)
    assert first.source == "import"
    cn = accounts["A-CN-2001"]  # CN order: interest, fees, principal; 3000.00 against 640.00 interest
    assert (cn.interest_minor, cn.principal_minor) == (0, 1_280_000 - 236_000)
    assert accounts["A-US-1003"].stage == "closed", "a payment of the whole balance closes the account"

    before = row_counts(database_url)
    assert load_payments(database_url) == (0, 3)
    assert row_counts(database_url) == before


def test_payments_for_unknown_accounts_or_with_bad_values_write_nothing(database_url: str, tmp_path: Path) -> None:
    load_accounts(database_url)
    before = row_counts(database_url)
    path = write(
        tmp_path / "payments.csv",
        PAYMENTS_HEADER,
        "P-1,A-US-1001,10.00,USD,2026-02-20",
        "P-2,A-NOPE,10.00,USD,2026-02-20",
        "P-3,A-US-1001,10.00,CNY,2026-02-20",
        "P-1,A-US-1002,10.00,USD,2026-02-20",
        "P-5,A-US-1002,0.00,USD,2026-02-30",
    )
    problems = rejected_payments(database_url, path).problems
    assert where(problems) == {
        (3, "account_ref"),
        (4, "currency"),
        (5, "payment_ref"),
        (6, "amount"),
        (6, "received_on"),
    }
    assert row_counts(database_url) == before
