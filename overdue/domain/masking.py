"""Mask personal data before it reaches a screen or a log line."""

from __future__ import annotations

from dataclasses import dataclass

MASK = "****"


def mask_tail(value: str, keep: int = 4) -> str:
    """Keep only the tail: 6222021234567890 -> ****7890 (GSM-7 safe, so an SMS stays in 160-char segments)."""
    tail = value[-keep:] if len(value) > keep else ""
    return MASK + tail


@dataclass(frozen=True, slots=True)
class Sensitive:
    """A national ID, card or bank account number on its way in. It prints as its tail, so an error message,
    a log line or a traceback that shows it by accident shows no more than the screen would."""

    value: str

    def __str__(self) -> str:
        return mask_tail(self.value)

    def __repr__(self) -> str:
        return f"Sensitive({self})"

    @property
    def last4(self) -> str:
        return self.value[-4:]


def mask_phone(phone: str) -> str:
    digits = [c for c in phone if c.isdigit()]
    return (phone[:2] if phone.startswith("+") else "") + "***" + "".join(digits[-2:])


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return (local[:1] + "***@" + domain) if domain else mask_tail(email)


def mask_address(address: str, channel: str) -> str:
    if channel == "email":
        return mask_email(address)
    if channel in ("sms", "voice"):
        return mask_phone(address)
    return address.split(",")[-1].strip() if "," in address else "***"
