"""Money as integer minor units plus an ISO 4217 currency; Decimal only where division happens."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache

from babel import Locale
from babel.numbers import format_currency, get_currency_precision, get_decimal_symbol, get_group_symbol

_EXPONENTS: dict[str, int] = {}


def exponent(currency: str) -> int:
    """Digits after the decimal point for a currency (USD 2, CNY 2, JPY 0)."""
    if currency not in _EXPONENTS:
        _EXPONENTS[currency] = get_currency_precision(currency)
    return _EXPONENTS[currency]


def to_minor(amount: str | Decimal | int, currency: str) -> int:
    """Parse a major-unit amount ("12.34") into minor units, refusing more precision than the currency has."""
    try:
        value = Decimal(str(amount).strip())
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {amount!r}") from exc
    if not value.is_finite():
        raise ValueError(f"not an amount: {amount!r}")
    scaled = value.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount!r} has more decimals than {currency} allows")
    return int(scaled)


def to_major(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-exponent(currency))


@cache
def babel_locale(locale: str) -> Locale:
    """Parsed once: Babel resolves a locale name like zh_CN anew on every call (~120 us, most of a format)."""
    return Locale.parse(locale.replace("-", "_"))


def format_money(minor: int, currency: str, locale: str) -> str:
    """Locale-aware display, e.g. $1,234.50 (en-US) or ¥1,234.50 (zh-CN): Babel's output, at a fraction of
    its cost (a cycle formats several amounts per message, and Babel takes ~60 us for each)."""
    shape = _money_shape(currency, locale)
    if shape is None or minor < 0:
        return _babel_money(minor, currency, locale)
    return shape.format(minor)


def _babel_money(minor: int, currency: str, locale: str) -> str:
    return format_currency(to_major(minor, currency), currency, locale=babel_locale(locale))


@dataclass(frozen=True)
class _MoneyShape:
    """Symbol, separators and decimals of a currency in a locale, read off Babel once."""

    prefix: str
    suffix: str
    group: str
    decimal: str
    digits: int

    def format(self, minor: int) -> str:
        major, fraction = divmod(minor, 10**self.digits)
        number = f"{major:,}".replace(",", self.group)
        if self.digits:
            number += f"{self.decimal}{fraction:0{self.digits}d}"
        return f"{self.prefix}{number}{self.suffix}"


PROBES = (123_456_789, 0, 5, 100_000, 99_999_999_999)


@cache
def _money_shape(currency: str, locale: str) -> _MoneyShape | None:
    """None when the locale's pattern is not the common grouped-thousands shape: then Babel formats."""
    parsed = babel_locale(locale)
    digits = exponent(currency)
    probe = _babel_money(PROBES[0], currency, locale)
    first, last = probe.find("1"), probe.rfind("9")
    if first < 0 or last < 0:
        return None
    shape = _MoneyShape(
        prefix=probe[:first],
        suffix=probe[last + 1 :],
        group=get_group_symbol(parsed),
        decimal=get_decimal_symbol(parsed),
        digits=digits,
    )
    if any(shape.format(minor) != _babel_money(minor, currency, locale) for minor in PROBES):
        return None
    return shape


def split_evenly(total_minor: int, parts: int) -> list[int]:
    """Split into `parts` amounts that sum exactly to the total; the first ones carry the extra cents."""
    if parts <= 0:
        raise ValueError("parts must be positive")
    base, extra = divmod(total_minor, parts)
    return [base + 1 if i < extra else base for i in range(parts)]


def ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


def round_minor(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))
