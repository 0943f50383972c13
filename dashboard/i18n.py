"""Every word on screen in the signed-in person's language (en-US or zh-CN), and amounts, dates and times
formatted for it with Babel.

Texts live in `dashboard/messages/<namespace>.yaml` as `{en-US: {name: text}, zh-CN: {name: text}}` and are
asked for as `t("<namespace>.<name>", **params)` (`str.format` placeholders). A file whose two languages do
not name the same texts, or a key no file has, raises at once: a page with a missing translation fails its
tests instead of showing a raw key to a person.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal, format_percent

from dashboard.identity import current_locale, current_time_zone
from overdue.domain.money import babel_locale, format_money
from overdue.services.users import LOCALES

MESSAGES = Path(__file__).resolve().parent / "messages"


class MissingMessage(KeyError):
    pass


@cache
def catalog(namespace: str) -> dict[str, dict[str, str]]:
    """One namespace's texts per locale, read once per process and checked for the same names in each."""
    path = MESSAGES / f"{namespace}.yaml"
    if not path.is_file():
        raise MissingMessage(f"no message file {path.name} (for keys '{namespace}.*')")
    loaded: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(loaded, dict) or sorted(loaded) != sorted(LOCALES):
        raise MissingMessage(f"{path.name}: the top-level keys must be exactly {', '.join(LOCALES)}")
    names = {locale: set(loaded[locale] or {}) for locale in LOCALES}
    reference = names[LOCALES[0]]
    for locale in LOCALES[1:]:
        if names[locale] != reference:
            missing = sorted(reference ^ names[locale])
            raise MissingMessage(f"{path.name}: {', '.join(missing)} not in both {' and '.join(LOCALES)}")
    return {locale: {name: str(text) for name, text in loaded[locale].items()} for locale in LOCALES}


def text(key: str, locale: str, **params: Any) -> str:
    namespace, _, name = key.partition(".")
    texts = catalog(namespace)[locale]
    if name not in texts:
        raise MissingMessage(f"no message {key!r} in {namespace}.yaml")
    return texts[name].format(**params) if params else texts[name]


def t(key: str, **params: Any) -> str:
    """The text for `key` in the signed-in person's language (before sign-in: the language they chose)."""
    return text(key, current_locale(), **params)


def term(key: str, fallback: str) -> str:
    """A code from configuration or data (a stage, a channel, a task kind) in the person's language, or as it is
    when no file names it: a strategy may name stages of its own, and a page must not fail on them."""
    namespace, _, name = key.partition(".")
    return catalog(namespace)[current_locale()].get(name, fallback)


def fmt_money(minor: int, currency: str) -> str:
    return format_money(minor, currency, current_locale())


def fmt_number(value: float) -> str:
    return str(format_decimal(value, locale=babel_locale(current_locale())))


def fmt_percent(share: float | None) -> str:
    """A share (0.125) as the locale writes it (12.5%); "–" when there was nothing to divide by."""
    return (
        "–" if share is None else str(format_percent(share, format="#,##0.0%", locale=babel_locale(current_locale())))
    )


def fmt_date(value: date, style: str = "medium") -> str:
    return str(format_date(value, format=style, locale=babel_locale(current_locale())))


def fmt_datetime(value: datetime, style: str = "medium") -> str:
    """In the browser's time zone when it said which (UTC otherwise), so a time reads as the clock on the wall."""
    return str(
        format_datetime(value, format=style, tzinfo=_zone(current_time_zone()), locale=babel_locale(current_locale()))
    )


@cache
def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")
