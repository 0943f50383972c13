"""The variables a template sees: money and dates already formatted for the customer's locale."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
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
    business_name: str
    callback_phone: str


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


def sample_context(sender: Sender, locale: str, *, time_barred: bool = False) -> dict[str, Any]:
    """A complete context with made-up values, to render any template without a database."""
    customer = Customer(
        external_ref="C-SAMPLE", full_name="Sample Customer", time_zone="UTC", locale=locale, jurisdiction="US"
    )
    account = Account(
        external_ref="A-SAMPLE-0001",
        customer_id=0,
        product="credit_card",
        currency="CNY" if locale == "zh-CN" else "USD",
        principal_minor=123_400,
        interest_minor=5_600,
        fees_minor=2_500,
        due_date=date(2026, 1, 15),
        dpd=12,
    )
    offer = {
        "installments": 6,
        "installment_minor": 21_917,
        "total_minor": 131_500,
        "first_due_date": date(2026, 2, 1),
        "expires_on": date(2026, 1, 29),
    }
    installment = {"seq": 2, "count": 6, "amount_minor": 21_917, "due_date": date(2026, 3, 1)}
    validation = SimpleNamespace(
        itemization_date=fmt_date(account.due_date, locale),
        balance_then=format_money(128_000, account.currency, locale),
        charges_since=format_money(3_500, account.currency, locale),
        paid_since=format_money(0, account.currency, locale),
        balance_now=format_money(account.balance_minor, account.currency, locale),
        ends_on=fmt_date(date(2026, 3, 2), locale),
    )
    context = message_context(sender, customer, account, offer, installment, time_barred=time_barred)
    return context | {"validation": validation}
