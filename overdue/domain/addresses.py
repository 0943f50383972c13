"""Is this a phone number or an email address a provider can deliver to? Checked before any send, because the
providers' test doubles accept anything and the real providers charge for, or hold against us, what they refuse."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

MAX_EMAIL_LENGTH = 320


def email_problem(value: str) -> str | None:
    """Why `value` is not an email address, or None when it is one (local@domain.tld, no spaces)."""
    local, _, domain = value.partition("@")
    if (
        len(value) > MAX_EMAIL_LENGTH
        or not local
        or "@" in domain
        or re.search(r"\s", value)
        or not re.fullmatch(r"[^.]+(\.[^.]+)+", domain)
    ):
        return "is not an email address"
    return None


@lru_cache(maxsize=65536)  # a dispatch checks each number once per message; parsing is slow
def is_e164(value: str) -> bool:
    """A valid number written exactly in E.164 (+ country code and number, no spaces)."""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return False
    return (
        phonenumbers.is_valid_number(number)
        and phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == value
    )
