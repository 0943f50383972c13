"""CSV imports of accounts and payments: all-or-nothing and idempotent.

The whole file is validated before anything is written, so a person fixing a file sees every problem at
once (by the line number their spreadsheet shows) and a rejected file leaves the database as it was.
Rows already in the database are counted and left alone, so re-running an import is always safe.
The formats are documented in docs/csv-formats.md.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path
from typing import Annotated, Any, TypeVar
from zoneinfo import available_timezones

import phonenumbers
import sqlalchemy as sa
from babel.numbers import is_currency
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from sqlmodel import Session, col

from overdue.config import Configuration
from overdue.domain import stages
from overdue.domain.money import to_minor
from overdue.services.audit import audit_row, record_many
from overdue.services.payments import PaymentIn, record_payments
from overdue.store.bulk import chunked
from overdue.store.tables import Account, ContactPoint, Customer, Payment

LOCALES = ("en-US", "zh-CN")
MAX_MINOR = 2**63 - 1  # money columns are 64-bit integers
LOOKUP_CHUNK = 5_000  # bound parameters per IN (...) query stay well under SQLite's and PostgreSQL's limits
PAYMENT_BATCH = 1_000  # payments per record_payments call, whose own look-up is one IN (...) query
REPORT_LIMIT = 1_000  # problems listed in the report; all of them stay in ImportRejected.problems
PHONE_REGIONS = {"UK": "GB"}  # jurisdiction codes that differ from the phone-number region code

ACCOUNT_REQUIRED = (
    "account_ref",
    "customer_ref",
    "full_name",
    "time_zone",
    "locale",
    "jurisdiction",
    "product",
    "currency",
    "principal",
    "interest",
    "fees",
    "due_date",
)
ACCOUNT_OPTIONAL = ("phone", "email", "postal_address", "consent_automated")
CUSTOMER_FIELDS = (
    "full_name",
    "time_zone",
    "locale",
    "jurisdiction",
    "phone",
    "email",
    "postal_address",
    "consent_automated",
)
RECORDED_CUSTOMER_FIELDS = ("full_name", "time_zone", "locale", "jurisdiction")
PAYMENT_REQUIRED = ("payment_ref", "account_ref", "amount", "currency", "received_on")


@dataclass(frozen=True)
class ImportProblem:
    line: int
    field: str
    message: str


class ImportRejected(Exception):
    """A file that was not imported at all; `problems` says every reason, line by line."""

    def __init__(self, path: Path, problems: Sequence[ImportProblem]) -> None:
        super().__init__(path, problems)
        self.path = path
        self.problems = tuple(problems)

    def __str__(self) -> str:
        lines = [f"{self.path}: {len(self.problems)} problem(s); nothing was imported."]
        lines += [f"{self.path}:{p.line}: field '{p.field}': {p.message}" for p in self.problems[:REPORT_LIMIT]]
        if len(self.problems) > REPORT_LIMIT:
            lines.append(f"{self.path}: ... and {len(self.problems) - REPORT_LIMIT} more problem(s) not shown.")
        return "\n".join(lines)


@dataclass
class ImportResult:
    created: int
    already_present: int


# --- cell validators ------------------------------------------------------------------------------


def _show(value: str) -> str:
    """Echo a cell in a message, cut short so one bad cell cannot flood the report."""
    return repr(value if len(value) <= 40 else value[:37] + "...")


def _describe(value: object) -> str:
    return "no value" if value is None else _show(str(value))


def _text(max_length: int, *, required: bool = True) -> BeforeValidator:
    def check(value: str) -> str | None:
        value = value.strip()
        if not value:
            if required:
                raise ValueError("is required")
            return None
        if len(value) > max_length:
            raise ValueError(f"is longer than {max_length} characters")
        return value

    return BeforeValidator(check)


def _iso_date(value: str) -> date:
    value = value.strip()
    if not value:
        raise ValueError("is required")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"{_show(value)} is not a date in YYYY-MM-DD form")


def _time_zone(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("is required")
    if value not in _zones():
        raise ValueError(f"{_show(value)} is not an IANA time zone such as America/New_York or Asia/Shanghai")
    return value


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _locale(value: str) -> str:
    value = value.strip()
    if value not in LOCALES:
        raise ValueError(f"{_show(value)} is not one of {', '.join(LOCALES)}" if value else "is required")
    return value


def _jurisdiction(value: str) -> str:
    value = value.strip()
    if not re.fullmatch(r"[A-Z]{2}", value):
        raise ValueError(f"{_show(value)} is not a two-letter code such as US or CN" if value else "is required")
    return value


def _currency(value: str) -> str:
    value = value.strip()
    if not (re.fullmatch(r"[A-Z]{3}", value) and is_currency(value)):
        raise ValueError(f"{_show(value)} is not an ISO 4217 currency code such as USD" if value else "is required")
    return value


def _consent(value: str) -> bool:
    answer = value.strip().lower()
    if answer in ("", "false", "no", "0"):
        return False
    if answer in ("true", "yes", "1"):
        return True
    raise ValueError(f"{_show(value)} is not one of true, false, yes, no, 1, 0")


def _email(value: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    local, _, domain = value.partition("@")
    if (
        len(value) > 320
        or not local
        or "@" in domain
        or re.search(r"\s", value)
        or not re.fullmatch(r"[^.]+(\.[^.]+)+", domain)
    ):
        raise ValueError(f"{_show(value)} is not an email address")
    return value


def _amount(value: str, currency: str | None, *, positive: bool) -> int:
    """Minor units of a major-unit amount. Without a valid currency only the number itself is checked."""
    value = value.strip()
    if not value:
        raise ValueError("is required")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", value):
        raise ValueError(f"{_show(value)} is not an amount like 1234.56")
    number = Decimal(value)
    if number < 0 or (positive and number == 0):
        raise ValueError("must be more than zero" if positive else "must not be negative")
    if currency is None:
        return 0  # the currency's own problem rejects the row
    minor = to_minor(value, currency)
    if minor > MAX_MINOR:
        raise ValueError(f"{_show(value)} is too large")
    return minor


@lru_cache(maxsize=4096)  # a customer with several accounts repeats the number, and parsing is slow
def _e164(value: str, region: str) -> str | None:
    try:
        number = phonenumbers.parse(value, region if region in phonenumbers.SUPPORTED_REGIONS else None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _error_message(error: Any) -> str:
    if error["type"] == "value_error":
        return str(error["ctx"]["error"])
    return str(error["msg"])


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True)


class AccountRow(_Row):
    """One line of an accounts file, validated; amounts are in minor units of `currency`."""

    account_ref: Annotated[str, _text(64)]
    customer_ref: Annotated[str, _text(64)]
    full_name: Annotated[str, _text(200)]
    time_zone: Annotated[str, BeforeValidator(_time_zone)]
    locale: Annotated[str, BeforeValidator(_locale)]
    jurisdiction: Annotated[str, BeforeValidator(_jurisdiction)]
    product: Annotated[str, _text(32)]
    currency: Annotated[str, BeforeValidator(_currency)]
    principal: int
    interest: int
    fees: int
    due_date: Annotated[date, BeforeValidator(_iso_date)]
    phone: str | None
    email: Annotated[str | None, BeforeValidator(_email)]
    postal_address: Annotated[str | None, _text(320, required=False)]
    consent_automated: Annotated[bool, BeforeValidator(_consent)]

    @field_validator("principal", "interest", "fees", mode="before")
    @classmethod
    def _money(cls, value: str, info: ValidationInfo) -> int:
        return _amount(value, info.data.get("currency"), positive=False)

    @field_validator("phone", mode="before")
    @classmethod
    def _phone(cls, value: str, info: ValidationInfo) -> str | None:
        """Normalized to E.164; a number without a country code is read as one of the jurisdiction's."""
        value = value.strip()
        if not value:
            return None
        jurisdiction = info.data.get("jurisdiction", "")
        normalized = _e164(value, PHONE_REGIONS.get(jurisdiction, jurisdiction))
        if normalized is None:
            raise ValueError(f"{_show(value)} is not a valid phone number (write it as +<country code> <number>)")
        return normalized

    @model_validator(mode="after")
    def _fits(self) -> AccountRow:
        if self.balance > MAX_MINOR:
            raise ValueError("principal + interest + fees is too large")
        return self

    @property
    def balance(self) -> int:
        return self.principal + self.interest + self.fees


class PaymentRow(_Row):
    """One line of a payments file, validated; `amount` is in minor units of `currency`."""

    payment_ref: Annotated[str, _text(128)]
    account_ref: Annotated[str, _text(64)]
    currency: Annotated[str, BeforeValidator(_currency)]  # before amount: the amount's precision depends on it
    amount: int
    received_on: Annotated[date, BeforeValidator(_iso_date)]

    @field_validator("amount", mode="before")
    @classmethod
    def _money(cls, value: str, info: ValidationInfo) -> int:
        return _amount(value, info.data.get("currency"), positive=True)


# --- reading --------------------------------------------------------------------------------------

R = TypeVar("R", bound=_Row)


@dataclass(frozen=True)
class _Parsed:
    rows: list[tuple[int, dict[str, str]]]
    problems: list[ImportProblem]


def _read(path: Path, required: Sequence[str], optional: Sequence[str] = ()) -> _Parsed:
    """Rows as {column: cell} with every known column present, numbered as a spreadsheet numbers them."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return _parse(csv.reader(handle), required, optional)
    except FileNotFoundError:
        raise ImportRejected(path, [ImportProblem(0, "(file)", "file not found")]) from None
    except OSError as exc:
        raise ImportRejected(path, [ImportProblem(0, "(file)", exc.strerror or str(exc))]) from None


def _parse(reader: Iterator[list[str]], required: Sequence[str], optional: Sequence[str]) -> _Parsed:
    rows: list[tuple[int, dict[str, str]]] = []
    problems: list[ImportProblem] = []
    line = 0
    try:
        header = next(reader, None)
        if header is None:
            expected = ",".join(required)
            return _Parsed(rows, [ImportProblem(1, "(file)", f"the file is empty; expected a header line: {expected}")])
        line = 1
        names = [name.strip().lower() for name in header]
        problems += _header_problems(names, required, optional)
        if problems:
            return _Parsed(rows, problems)
        known = (*required, *optional)
        for line, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            extra = [cell for cell in cells[len(names) :] if cell.strip()]
            if extra:
                problems.append(ImportProblem(line, "(row)", f"{len(cells)} cells but the header has {len(names)}"))
                continue
            row = dict.fromkeys(known, "") | dict(zip(names, cells, strict=False))
            rows.append((line, row))
    except UnicodeDecodeError:
        problems.append(ImportProblem(line + 1, "(file)", "not UTF-8 text (save it as 'CSV UTF-8')"))
    except csv.Error as exc:
        problems.append(ImportProblem(line + 1, "(file)", f"not readable as CSV: {exc}"))
    return _Parsed(rows, problems)


def _header_problems(names: Sequence[str], required: Sequence[str], optional: Sequence[str]) -> list[ImportProblem]:
    problems = [ImportProblem(1, name, "required column is missing") for name in required if name not in names]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            problems.append(ImportProblem(1, name or "(blank)", "column appears more than once"))
        elif name not in required and name not in optional:
            problems.append(ImportProblem(1, name or "(blank)", "unknown column"))
        seen.add(name)
    return problems


def _validate(model: type[R], parsed: _Parsed, problems: list[ImportProblem]) -> list[tuple[int, R]]:
    valid: list[tuple[int, R]] = []
    for line, cells in parsed.rows:
        try:
            valid.append((line, model.model_validate(cells)))
        except ValidationError as exc:
            problems += [
                ImportProblem(line, str(error["loc"][0]) if error["loc"] else "(row)", _error_message(error))
                for error in exc.errors(include_url=False)
            ]
    return valid


def _existing(session: Session, column: Any, values: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for batch in chunked(sorted(set(values)), LOOKUP_CHUNK):
        found.update(session.scalars(sa.select(column).where(column.in_(batch))))
    return found


def _actor(path: Path) -> str:
    return f"import:{path.name}"[:64]


# --- accounts -------------------------------------------------------------------------------------


def import_accounts(session: Session, config: Configuration, path: Path, now: datetime) -> ImportResult:
    """Create customers, contact points and accounts from a CSV file; see docs/csv-formats.md."""
    parsed = _read(path, ACCOUNT_REQUIRED, ACCOUNT_OPTIONAL)
    problems = list(parsed.problems)
    rows = _validate(AccountRow, parsed, problems)
    problems += _file_consistency(rows)
    problems += [
        ImportProblem(
            line, "jurisdiction", f"{row.jurisdiction} has no policy in configs/policies ({', '.join(config.policies)})"
        )
        for line, row in rows
        if row.jurisdiction not in config.policies
    ]
    present = _existing(session, col(Account.external_ref), [row.account_ref for _, row in rows])
    new = [(line, row) for line, row in rows if row.account_ref not in present]
    known_customers = _recorded_customers(session, [row.customer_ref for _, row in new])
    problems += _record_consistency(new, known_customers)
    if problems:
        raise ImportRejected(path, sorted(problems, key=lambda p: p.line))
    _write_accounts(session, [row for _, row in new], known_customers, _actor(path), now)
    return ImportResult(created=len(new), already_present=len(rows) - len(new))


def _file_consistency(rows: Sequence[tuple[int, AccountRow]]) -> list[ImportProblem]:
    """One account per account_ref, and one set of details per customer_ref, within the file."""
    problems: list[ImportProblem] = []
    account_lines: dict[str, int] = {}
    customers: dict[str, tuple[int, AccountRow]] = {}
    for line, row in rows:
        if row.account_ref in account_lines:
            problems.append(
                ImportProblem(
                    line, "account_ref", f"{_show(row.account_ref)} is already on line {account_lines[row.account_ref]}"
                )
            )
            continue
        account_lines[row.account_ref] = line
        first_line, first = customers.setdefault(row.customer_ref, (line, row))
        problems += [
            ImportProblem(
                line,
                name,
                f"customer {_show(row.customer_ref)} has {_describe(getattr(first, name))} on line {first_line}; "
                "a customer's details must agree on every line",
            )
            for name in CUSTOMER_FIELDS
            if getattr(row, name) != getattr(first, name)
        ]
    return problems


def _recorded_customers(session: Session, refs: Sequence[str]) -> dict[str, Customer]:
    customers: dict[str, Customer] = {}
    for batch in chunked(sorted(set(refs)), LOOKUP_CHUNK):
        for customer in session.scalars(sa.select(Customer).where(col(Customer.external_ref).in_(batch))):
            customers[customer.external_ref] = customer
    return customers


def _record_consistency(rows: Sequence[tuple[int, AccountRow]], customers: dict[str, Customer]) -> list[ImportProblem]:
    """A new account for a customer on record must describe the same person: the wrong customer_ref would
    send collection contact about one person's debt to another."""
    problems: list[ImportProblem] = []
    for line, row in rows:
        customer = customers.get(row.customer_ref)
        if customer is None:
            continue
        problems += [
            ImportProblem(
                line,
                name,
                f"customer {_show(row.customer_ref)} is on record with {_describe(getattr(customer, name))}; "
                "an import does not change a customer on record",
            )
            for name in RECORDED_CUSTOMER_FIELDS
            if getattr(row, name) != getattr(customer, name)
        ]
    return problems


def _write_accounts(
    session: Session, rows: Sequence[AccountRow], known: dict[str, Customer], actor: str, now: datetime
) -> None:
    """Set-based inserts: customers, their contact points, accounts, audit rows. New ids are read back by
    reference afterwards, which is cheaper than INSERT ... RETURNING on PostgreSQL."""
    firsts: dict[str, AccountRow] = {}
    for row in rows:
        if row.customer_ref not in known:
            firsts.setdefault(row.customer_ref, row)
    if firsts:
        session.execute(sa.insert(Customer), [_customer(row, now) for row in firsts.values()])
    customer_ids = _ids(session, Customer, sorted({row.customer_ref for row in rows}))
    contacts = [point | {"customer_id": customer_ids[ref]} for ref, row in firsts.items() for point in _contacts(row)]
    if contacts:
        session.execute(sa.insert(ContactPoint), contacts)
    today = now.date()
    if rows:
        session.execute(sa.insert(Account), [_account(row, customer_ids[row.customer_ref], today) for row in rows])
    account_ids = _ids(session, Account, [row.account_ref for row in rows])
    record_many(
        session,
        (
            audit_row(
                "account.imported",
                actor,
                now,
                account_ids[row.account_ref],
                ref=row.account_ref,
                customer_ref=row.customer_ref,
            )
            for row in rows
        ),
    )


def _ids(session: Session, table: type[Customer | Account], refs: Sequence[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    query = sa.select(col(table.external_ref), col(table.id))
    for batch in chunked(refs, LOOKUP_CHUNK):
        ids.update(session.execute(query.where(col(table.external_ref).in_(batch))).tuples().all())
    return ids


def _customer(row: AccountRow, now: datetime) -> dict[str, Any]:
    return {
        "external_ref": row.customer_ref,
        "full_name": row.full_name,
        "time_zone": row.time_zone,
        "locale": row.locale,
        "jurisdiction": row.jurisdiction,
        "vulnerability": [],
        "created_at": now,
    }


def _contacts(row: AccountRow) -> list[dict[str, Any]]:
    """A phone is reachable by sms and voice alike; automated contact on it needs the customer's consent."""
    points: list[dict[str, Any]] = []
    if row.phone:
        points += [
            {"channel": channel, "address": row.phone, "consent": row.consent_automated} for channel in ("sms", "voice")
        ]
    if row.email:
        points.append({"channel": "email", "address": row.email, "consent": True})
    if row.postal_address:
        points.append({"channel": "letter", "address": row.postal_address, "consent": True})
    return points


def _account(row: AccountRow, customer_id: int, today: date) -> dict[str, Any]:
    return {
        "external_ref": row.account_ref,
        "customer_id": customer_id,
        "product": row.product,
        "currency": row.currency,
        "principal_minor": row.principal,
        "interest_minor": row.interest,
        "fees_minor": row.fees,
        "placed_balance_minor": row.balance,
        "due_date": row.due_date,
        "dpd": stages.days_past_due(row.due_date, today),
        "stage": stages.CURRENT,
        "stage_entered_on": today,
        "broken_plans": 0,
        "strategy_arm": "default",
        "version": 0,
    }


# --- payments -------------------------------------------------------------------------------------


def import_payments(session: Session, config: Configuration, path: Path, now: datetime) -> ImportResult:
    """Record payments from a CSV file through record_payments, so allocation, plan installments and
    closing happen exactly as for any other payment; see docs/csv-formats.md."""
    parsed = _read(path, PAYMENT_REQUIRED)
    problems = list(parsed.problems)
    rows = _validate(PaymentRow, parsed, problems)
    accounts = _accounts_by_ref(session, [row.account_ref for _, row in rows])
    payment_lines: dict[str, int] = {}
    for line, row in rows:
        if row.payment_ref in payment_lines:
            problems.append(
                ImportProblem(
                    line, "payment_ref", f"{_show(row.payment_ref)} is already on line {payment_lines[row.payment_ref]}"
                )
            )
        payment_lines.setdefault(row.payment_ref, line)
        problems += _payment_account_problems(line, row, accounts.get(row.account_ref), config)
    if problems:
        raise ImportRejected(path, sorted(problems, key=lambda p: p.line))
    recorded = _existing(session, col(Payment.payment_ref), list(payment_lines))
    new = [
        PaymentIn(row.payment_ref, accounts[row.account_ref][0], row.amount, row.currency, row.received_on, "import")
        for _, row in rows
        if row.payment_ref not in recorded
    ]
    for batch in chunked(new, PAYMENT_BATCH):
        record_payments(session, config, batch, _actor(path), now)
    return ImportResult(created=len(new), already_present=len(rows) - len(new))


def _accounts_by_ref(session: Session, refs: Sequence[str]) -> dict[str, tuple[int, str, str]]:
    """account_ref -> (account id, currency, the customer's jurisdiction), in a few set-based queries."""
    found: dict[str, tuple[int, str, str]] = {}
    query = sa.select(col(Account.external_ref), col(Account.id), col(Account.currency), col(Customer.jurisdiction))
    query = query.join(Customer, col(Customer.id) == col(Account.customer_id))
    for batch in chunked(sorted(set(refs)), LOOKUP_CHUNK):
        for ref, account_id, currency, jurisdiction in session.execute(
            query.where(col(Account.external_ref).in_(batch))
        ):
            found[ref] = (account_id, currency, jurisdiction)
    return found


def _payment_account_problems(
    line: int, row: PaymentRow, account: tuple[int, str, str] | None, config: Configuration
) -> list[ImportProblem]:
    if account is None:
        return [ImportProblem(line, "account_ref", f"no account {_show(row.account_ref)} on record")]
    _, currency, jurisdiction = account
    if row.currency != currency:
        return [
            ImportProblem(line, "currency", f"{row.currency} but account {_show(row.account_ref)} is in {currency}")
        ]
    if jurisdiction not in config.policies:
        return [
            ImportProblem(
                line, "account_ref", f"the customer's jurisdiction {jurisdiction} has no policy in configs/policies"
            )
        ]
    return []
