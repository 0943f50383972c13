"""The variables a template sees: money and dates already formatted for the customer's locale."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from babel.dates import format_date

from overdue.domain.masking import mask_tail
from overdue.domain.money import babel_locale, format_money
from overdue.store.tables import Account, Customer
from overdue.store.views import AccountLike, CustomerLike

OPT_OUT = {"en-US": "Reply STOP to opt out.", "zh-CN": "回复TD退订"}


@dataclass(frozen=True)
class Sender:
    """Who the messages come from: the letterhead of a letter, the name and number in every message."""

    business_name: str
    callback_phone: str
    address: str = ""


@lru_cache(maxsize=8192)
def fmt_date(day: date, locale: str) -> str:
    """Cached: a cycle's messages name the same few dozen dates thousands of times."""
    return format_date(day, format="long", locale=babel_locale(locale))


def message_context(
    sender: Sender,
    customer: CustomerLike,
    account: AccountLike,
    offer: dict[str, Any] | None = None,
    installment: dict[str, Any] | None = None,
    *,
    time_barred: bool = False,
) -> dict[str, Any]:
    """`time_barred`: the debt is past its limitation period, so no template may mention suing for it."""
    locale, currency = customer.locale, account.currency

    def money(minor: int) -> str:
        return format_money(minor, currency, locale)

    return {
        "customer_name": customer.full_name,
        "business_name": sender.business_name,
        "business_address": sender.address,
        "callback_phone": sender.callback_phone,
        "account_ref": mask_tail(account.external_ref),
        "balance": money(account.balance_minor),
        "principal": money(account.principal_minor),
        "interest": money(account.interest_minor),
        "fees": money(account.fees_minor),
        "due_date": fmt_date(account.due_date, locale),
        "dpd": account.dpd,
        "opt_out": OPT_OUT.get(locale, OPT_OUT["en-US"]),
        "offer": _offer(offer, money, locale),
        "installment": _installment(installment, money, locale),
        "time_barred": time_barred,
    }


def _offer(offer: dict[str, Any] | None, money: Any, locale: str) -> SimpleNamespace | None:
    if offer is None:
        return None
    return SimpleNamespace(
        installments=offer["installments"],
        installment_amount=money(offer["installment_minor"]),
        total=money(offer["total_minor"]),
        first_due_date=fmt_date(offer["first_due_date"], locale),
        expires_on=fmt_date(offer["expires_on"], locale),
    )


def _installment(item: dict[str, Any] | None, money: Any, locale: str) -> SimpleNamespace | None:
    if item is None:
        return None
    return SimpleNamespace(
        seq=item["seq"],
        count=item["count"],
        amount=money(item["amount_minor"]),
        due_date=fmt_date(item["due_date"], locale),
    )


@dataclass(frozen=True)
class SampleValues:
    """Made-up account facts for rendering a template without a database."""

    names: dict[str, str]  # by locale
    principal_minor: int
    interest_minor: int
    fees_minor: int
    due_date: date
    dpd: int
    installments: int
    itemization_date: date
    validation_ends_on: date


TYPICAL = SampleValues(
    names={"en-US": "Sample Customer", "zh-CN": "张伟"},
    principal_minor=123_400,
    interest_minor=5_600,
    fees_minor=2_500,
    due_date=date(2026, 1, 15),
    dpd=12,
    installments=6,
    itemization_date=date(2026, 1, 15),
    validation_ends_on=date(2026, 3, 2),
)
# The longest values a real message plausibly carries: a double-barrelled name, a Uyghur name with its
# middle dot, a balance near a million, the longest month name, 179 days past due, a 60-month plan.
LONGEST = SampleValues(
    names={"en-US": "Alexandra Montgomery-Richardson", "zh-CN": "阿依古丽·买买提"},
    principal_minor=98_765_432,
    interest_minor=1_234_567,
    fees_minor=99_999,
    due_date=date(2026, 9, 30),
    dpd=179,
    installments=60,
    itemization_date=date(2026, 9, 30),
    validation_ends_on=date(2026, 11, 30),
)


def sample_context(
    sender: Sender, locale: str, *, time_barred: bool = False, values: SampleValues = TYPICAL
) -> dict[str, Any]:
    """A complete context with made-up values, to render any template without a database."""
    customer, account = sample_account(locale, values)
    balance = account.balance_minor
    installment_minor = -(-balance // values.installments)
    first_due = values.due_date + timedelta(days=values.dpd + 17)
    offer = {
        "installments": values.installments,
        "installment_minor": installment_minor,
        "total_minor": balance,
        "first_due_date": first_due,
        "expires_on": values.due_date + timedelta(days=values.dpd + 14),
    }
    installment = {"seq": 2, "count": values.installments, "amount_minor": installment_minor, "due_date": first_due}

    def money(minor: int) -> str:
        return format_money(minor, account.currency, locale)

    charges = values.interest_minor // 2
    validation = SimpleNamespace(
        itemization_date=fmt_date(values.itemization_date, locale),
        balance_then=money(balance - charges),
        charges_since=money(charges),
        paid_since=money(0),
        balance_now=money(balance),
        ends_on=fmt_date(values.validation_ends_on, locale),
    )
    context = message_context(sender, customer, account, offer, installment, time_barred=time_barred)
    return context | {"validation": validation}


def sample_account(locale: str, values: SampleValues = TYPICAL) -> tuple[Customer, Account]:
    """A made-up customer in `locale` and their account."""
    customer = Customer(
        external_ref="C-SAMPLE",
        full_name=values.names.get(locale, values.names["en-US"]),
        time_zone="UTC",
        locale=locale,
        jurisdiction="CN" if locale == "zh-CN" else "US",
    )
    account = Account(
        external_ref="A-SAMPLE-0001",
        customer_id=0,
        product="credit_card",
        currency="CNY" if locale == "zh-CN" else "USD",
        principal_minor=values.principal_minor,
        interest_minor=values.interest_minor,
        fees_minor=values.fees_minor,
        due_date=values.due_date,
        dpd=values.dpd,
    )
    return customer, account
