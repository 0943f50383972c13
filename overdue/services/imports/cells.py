"""Cell and row validation: every cell checked, every problem named by its field."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from functools import cache, lru_cache
from typing import Annotated, Any
from zoneinfo import available_timezones

import phonenumbers
from babel.numbers import is_currency
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ValidationInfo,
    field_validator,
    model_validator,
)

from overdue.domain.addresses import email_problem
from overdue.domain.check_digits import iban_valid, luhn_valid
from overdue.domain.masking import Sensitive, mask_tail
from overdue.domain.money import to_minor

LOCALES = ("en-US", "zh-CN")
MAX_MINOR = 2**63 - 1  # money columns are 64-bit integers
PHONE_REGIONS = {"UK": "GB"}  # jurisdiction codes that differ from the phone-number region code


# --- cell validators ------------------------------------------------------------------------------


def show(value: str) -> str:
    """Echo a cell in a message, cut short so one bad cell cannot flood the report."""
    return repr(value if len(value) <= 40 else value[:37] + "...")


def describe(value: object) -> str:
    return "no value" if value is None else show(str(value))


def text(max_length: int, *, required: bool = True) -> BeforeValidator:
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


def iso_date(value: str) -> date:
    value = value.strip()
    if not value:
        raise ValueError("is required")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"{show(value)} is not a date in YYYY-MM-DD form")


def time_zone(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("is required")
    if value not in zones():
        raise ValueError(f"{show(value)} is not an IANA time zone such as America/New_York or Asia/Shanghai")
    return value


@cache
def zones() -> frozenset[str]:
    return frozenset(available_timezones())


def locale(value: str) -> str:
    value = value.strip()
    if value not in LOCALES:
        raise ValueError(f"{show(value)} is not one of {', '.join(LOCALES)}" if value else "is required")
    return value


def jurisdiction(value: str) -> str:
    value = value.strip()
    if not re.fullmatch(r"[A-Z]{2}", value):
        raise ValueError(f"{show(value)} is not a two-letter code such as US or CN" if value else "is required")
    return value


def currency(value: str) -> str:
    value = value.strip()
    if not (re.fullmatch(r"[A-Z]{3}", value) and is_currency(value)):
        raise ValueError(f"{show(value)} is not an ISO 4217 currency code such as USD" if value else "is required")
    return value


PAYMENT_REVERSALS = ("reversal", "chargeback")


def payment_kind(value: str) -> str:
    value = value.strip().lower() or "payment"
    if value not in ("payment", *PAYMENT_REVERSALS):
        raise ValueError(f"{show(value)} is not one of payment, reversal, chargeback")
    return value


def consent(value: str) -> bool:
    answer = value.strip().lower()
    if answer in ("", "false", "no", "0"):
        return False
    if answer in ("true", "yes", "1"):
        return True
    raise ValueError(f"{show(value)} is not one of true, false, yes, no, 1, 0")


def email(value: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    problem = email_problem(value)
    if problem:
        raise ValueError(f"{show(value)} {problem}")
    return value


def amount(value: str, currency: str | None, *, positive: bool) -> int:
    """Minor units of a major-unit amount. Without a valid currency only the number itself is checked."""
    value = value.strip()
    if not value:
        raise ValueError("is required")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", value):
        raise ValueError(f"{show(value)} is not an amount like 1234.56")
    number = Decimal(value)
    if number < 0 or (positive and number == 0):
        raise ValueError("must be more than zero" if positive else "must not be negative")
    if currency is None:
        return 0  # the currency's own problem rejects the row
    minor = to_minor(value, currency)
    if minor > MAX_MINOR:
        raise ValueError(f"{show(value)} is too large")
    return minor


# --- sensitive numbers: sealed when written, and never echoed whole in a message ------------------------


def compact(value: str) -> str:
    """People group these numbers with spaces or dashes: 4111 1111 1111 1111, GB82 WEST 1234 ..."""
    return re.sub(r"[\s-]", "", value).upper()


def national_id(value: str) -> Sensitive | None:
    number = compact(value)
    if not number:
        return None
    if not re.fullmatch(r"[0-9A-Z]{6,32}", number):
        raise ValueError(f"{show(mask_tail(number))} is not an ID number (6 to 32 letters and digits)")
    return Sensitive(number)


def card_number(value: str) -> Sensitive | None:
    number = compact(value)
    if not number:
        return None
    if not re.fullmatch(r"\d{12,19}", number):
        raise ValueError(f"{show(mask_tail(number))} is not a card number (12 to 19 digits)")
    if not luhn_valid(number):
        raise ValueError(f"{show(mask_tail(number))} fails the card number's check digit: a digit is wrong or missing")
    return Sensitive(number)


def bank_account(value: str) -> Sensitive | None:
    """Digits only, or an IBAN (two letters, two check digits, up to 30 letters and digits)."""
    number = compact(value)
    if not number:
        return None
    if re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", number):
        if not iban_valid(number):
            raise ValueError(f"{show(mask_tail(number))} fails the IBAN check digits: a character is wrong or missing")
    elif not re.fullmatch(r"\d{6,34}", number):
        raise ValueError(f"{show(mask_tail(number))} is not a bank account number (6 to 34 digits, or an IBAN)")
    return Sensitive(number)


@lru_cache(maxsize=4096)  # a customer with several accounts repeats the number, and parsing is slow
def e164(value: str, region: str) -> str | None:
    try:
        number = phonenumbers.parse(value, region if region in phonenumbers.SUPPORTED_REGIONS else None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def error_message(error: Any) -> str:
    if error["type"] == "value_error":
        return str(error["ctx"]["error"])
    return str(error["msg"])


class Row(BaseModel):
    model_config = ConfigDict(frozen=True)


class AccountRow(Row):
    """One line of an accounts file, validated; amounts are in minor units of `currency`."""

    model_config = ConfigDict(arbitrary_types_allowed=True)  # Sensitive; frozen comes from Row

    account_ref: Annotated[str, text(64)]
    customer_ref: Annotated[str, text(64)]
    full_name: Annotated[str, text(200)]
    time_zone: Annotated[str, BeforeValidator(time_zone)]
    locale: Annotated[str, BeforeValidator(locale)]
    jurisdiction: Annotated[str, BeforeValidator(jurisdiction)]
    product: Annotated[str, text(32)]
    currency: Annotated[str, BeforeValidator(currency)]
    principal: int
    interest: int
    fees: int
    due_date: Annotated[date, BeforeValidator(iso_date)]
    phone: str | None
    email: Annotated[str | None, BeforeValidator(email)]
    postal_address: Annotated[str | None, text(320, required=False)]
    consent_automated: Annotated[bool, BeforeValidator(consent)]
    national_id: Annotated[Sensitive | None, BeforeValidator(national_id)]
    card_number: Annotated[Sensitive | None, BeforeValidator(card_number)]
    bank_account: Annotated[Sensitive | None, BeforeValidator(bank_account)]

    @field_validator("principal", "interest", "fees", mode="before")
    @classmethod
    def _money(cls, value: str, info: ValidationInfo) -> int:
        return amount(value, info.data.get("currency"), positive=False)

    @field_validator("phone", mode="before")
    @classmethod
    def _phone(cls, value: str, info: ValidationInfo) -> str | None:
        """Normalized to E.164; a number without a country code is read as one of the jurisdiction's."""
        value = value.strip()
        if not value:
            return None
        jurisdiction = info.data.get("jurisdiction", "")
        normalized = e164(value, PHONE_REGIONS.get(jurisdiction, jurisdiction))
        if normalized is None:
            raise ValueError(f"{show(value)} is not a valid phone number (write it as +<country code> <number>)")
        return normalized

    @model_validator(mode="after")
    def _fits(self) -> AccountRow:
        if self.balance > MAX_MINOR:
            raise ValueError("principal + interest + fees is too large")
        return self

    @property
    def balance(self) -> int:
        return self.principal + self.interest + self.fees


class PaymentRow(Row):
    """One line of a payments file, validated; `amount` is in minor units of `currency`."""

    payment_ref: Annotated[str, text(128)]
    account_ref: Annotated[str, text(64)]
    currency: Annotated[str, BeforeValidator(currency)]  # before amount: the amount's precision depends on it
    amount: int
    received_on: Annotated[date, BeforeValidator(iso_date)]

    kind: Annotated[str, BeforeValidator(payment_kind)] = "payment"
    reverses: Annotated[str | None, text(128, required=False)] = None  # after kind: whether it is needed depends on it

    @field_validator("amount", mode="before")
    @classmethod
    def _money(cls, value: str, info: ValidationInfo) -> int:
        return amount(value, info.data.get("currency"), positive=True)

    @field_validator("reverses")
    @classmethod
    def _names_the_payment(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("kind")
        if kind in PAYMENT_REVERSALS and value is None:
            raise ValueError(f"is required for a {kind}: the payment_ref of the payment it returns")
        if kind == "payment" and value is not None:
            raise ValueError("is only for a reversal or chargeback (set kind)")
        return value
