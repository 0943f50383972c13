"""Signed tokens for dashboard sessions: `value.issued.mac`, HMAC-SHA256 over a purpose, the value and the
instant it was issued.

The purpose keeps a token made for one use from being replayed as another (a one-minute hand-off ticket is
not a session cookie). Only a digest of the session id is stored, so the table cannot be replayed either.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SESSION = "session"
HANDOFF = "handoff"


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("ascii")).hexdigest()


def _mac(key: bytes, purpose: str, value: str, issued: int) -> str:
    message = f"{purpose}\n{value}\n{issued}".encode("ascii")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def sign(key: bytes, purpose: str, value: str, issued: int) -> str:
    """`value` must be URL-safe (a session id is); `issued` is a Unix time in seconds."""
    return f"{value}.{issued}.{_mac(key, purpose, value, issued)}"


def unsign(key: bytes, purpose: str, token: str, now: int, max_age: int) -> str | None:
    """The value, or None for a token that is forged, made for another purpose, expired or from the future."""
    try:
        value, issued_text, mac = token.rsplit(".", 2)
        issued = int(issued_text)
        expected = _mac(key, purpose, value, issued)
    except (ValueError, UnicodeEncodeError):
        return None
    if not hmac.compare_digest(mac, expected):
        return None
    if not 0 <= now - issued <= max_age:
        return None
    return value
