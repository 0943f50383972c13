"""Personal data never reaches a log line: phone numbers, emails, ID, card and bank account numbers are masked.

Logs travel further than the database (Prefect's API and UI, log shippers, support tickets), so the
redaction happens when a record is created: `install_redaction()` wraps logging's record factory, which
every logger uses, including Prefect's run loggers whose records go to the console and the Prefect API
through handlers that Prefect configures on its own schedule. `RedactionFilter` does the same for a
handler configured elsewhere (e.g. a logging dictConfig with `'()': 'overdue.logging_redaction.RedactionFilter'`).
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

# Order matters: the longer, more specific shapes go first, so a Chinese ID is not half-eaten as a card
# number and an international phone number written in groups is not mistaken for a card.
_NOT_BEFORE = r"(?<![\w+.-])"
_NOT_AFTER = r"(?![\w-])"
PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"[\w.%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"), "[email]"),
    # Chinese resident ID: 6-digit region, birth date YYYYMMDD, 3-digit sequence, check digit or X.
    (
        re.compile(_NOT_BEFORE + r"[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]"),
        "[id]",
    ),
    (re.compile(_NOT_BEFORE + r"\d{3}-\d{2}-\d{4}" + _NOT_AFTER), "[ssn]"),
    # IBAN, compact or in groups of four: GB82WEST12345698765432, GB82 WEST 1234 5698 7654 32.
    (re.compile(_NOT_BEFORE + r"[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?" + _NOT_AFTER), "[iban]"),
    # E.164, written plain or in groups: +12125550123, +86 186 1234 5678, +1 (212) 555-0123.
    (re.compile(r"(?<![\w+])\+[1-9](?:[ .-]?\(?\d\)?){7,14}" + _NOT_AFTER), "[phone]"),
    # Card numbers: 13-19 digits, optionally grouped by spaces or dashes.
    (re.compile(_NOT_BEFORE + r"\d(?:[ -]?\d){12,18}" + _NOT_AFTER), "[card]"),
    # National formats: US (212) 555-0123, 212-555-0123, 1-212-555-0123; CN mobile 138 0013 8000, 13800138000.
    (re.compile(r"(?<![\w+-])(?:1[ .-])?(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}" + _NOT_AFTER), "[phone]"),
    (re.compile(_NOT_BEFORE + r"1[3-9]\d[ -]?\d{4}[ -]?\d{4}" + _NOT_AFTER), "[phone]"),
    # Last, a bare run of 9 to 12 digits: a bank account, or an SSN written without dashes. Never part of a
    # decimal amount; a compact date (8 digits) is too short to match.
    (re.compile(_NOT_BEFORE + r"\d{9,12}(?![\w-]|\.\d)"), "[number]"),
)


def redact(text: str) -> str:
    for pattern, mask in PATTERNS:
        text = pattern.sub(mask, text)
    return text


def redact_record(record: logging.LogRecord) -> None:
    """Format the message with its arguments first (a phone number is usually an argument), then mask it."""
    try:
        message = record.getMessage()
    except (TypeError, ValueError):  # a malformed call: keep what there is, but still redact it
        message = f"{record.msg} {record.args}"
    record.msg, record.args = redact(message), None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


class RedactionFilter(logging.Filter):
    """Redacts in place and never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


_install_lock = threading.Lock()


def install_redaction() -> None:
    """Make every log record created from now on redacted, whichever logger or handler sees it. Idempotent."""
    with _install_lock:
        factory = logging.getLogRecordFactory()
        if getattr(factory, "redacts", False):
            return

        def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = factory(*args, **kwargs)
            redact_record(record)
            return record

        redacting_factory.redacts = True  # type: ignore[attr-defined]
        logging.setLogRecordFactory(redacting_factory)
