"""Every webhook proves where it came from and that it is new.

- Signatures: Twilio's `X-Twilio-Signature` (HMAC over the URL we published and the form fields, checked by
  the SDK's `RequestValidator`); SendGrid's ECDSA signature over timestamp + raw body (the public key loaded
  with the SDK's `EventWebhook` helper, verified over bytes so an email's binary attachments verify too).
- Replays: a signed timestamp older than the window is refused; every event id is recorded once
  (`webhookreceipt`, unique), in the same transaction as its effects, so a duplicate delivery changes nothing.
  Where the provider signs no timestamp (Twilio messages), the first time we saw the id stands in for it: the
  same id again within the window is the provider retrying (answered as done), later it is a replay (refused).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import SecretStr
from sendgrid.helpers.eventwebhook import EventWebhook
from sendgrid.helpers.eventwebhook.eventwebhook_header import EventWebhookHeader
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col
from twilio.request_validator import RequestValidator, get_signature_algorithm

from overdue.store.bulk import chunked
from overdue.store.tables import WebhookReceipt

SENDGRID_SIGNATURE = EventWebhookHeader.SIGNATURE
SENDGRID_TIMESTAMP = EventWebhookHeader.TIMESTAMP
TWILIO_SIGNATURE = "X-Twilio-Signature"
TWILIO_SIGNATURE_SETTINGS = "X-Twilio-Webhooks-Signature-Settings"
MAX_EVENT_ID = 200


class Freshness(StrEnum):
    NEW = "new"  # at least one event not seen before: process those
    DUPLICATE = "duplicate"  # all seen, recently: the provider trying again; nothing to do
    REPLAY = "replay"  # all seen, long ago: someone sending an old request again; refused


def twilio_signed(token: SecretStr | None, url: str, form: Any, signature: str | None, settings: str | None) -> bool:
    """`url`: the address Twilio was given for this webhook, query included; `form`: the posted fields."""
    if token is None or not signature:
        return False
    validator = RequestValidator(token.get_secret_value())
    return bool(validator.validate(url, form, signature, get_signature_algorithm(settings)))


def sendgrid_signed(public_key: str | None, timestamp: str | None, body: bytes, signature: str | None) -> bool:
    """ECDSA P-256 with SHA-256 over timestamp + body. Anything malformed (key, signature, base64) is a no."""
    if not (public_key and timestamp and signature):
        return False
    try:
        key = EventWebhook().convert_public_key_to_ecdsa(public_key)
        key.verify(base64.b64decode(signature, validate=True), timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def hmac_signed(secret: SecretStr | None, timestamp: str | None, body: bytes, signature: str | None) -> bool:
    """Our own payment webhook: `v1=` + hex HMAC-SHA256, keyed by the shared secret, over `timestamp.` + the raw
    body (the timestamp is signed, so an old request cannot be sent again with a new one). Compared in
    constant time; a missing secret refuses everything."""
    if secret is None or not timestamp or not signature:
        return False
    expected = payment_signature(secret.get_secret_value(), timestamp, body)
    return hmac.compare_digest(expected.encode(), signature.strip().encode())


def payment_signature(secret: str, timestamp: str, body: bytes) -> str:
    """What a payment provider (or a test) puts in the signature header."""
    return "v1=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def signed_at_unix(value: str | None) -> datetime | None:
    """SendGrid's timestamp header: seconds since the epoch."""
    if value is None or not value.strip().isdigit():
        return None
    return datetime.fromtimestamp(int(value), UTC)


def signed_at_rfc2822(value: str | None) -> datetime | None:
    """Twilio's `Timestamp` field of call progress events: an RFC 2822 date."""
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def fresh(signed_at: datetime | None, now: datetime, max_age: timedelta) -> bool:
    """Within the window either way (a provider's clock may run a little ahead of ours)."""
    return signed_at is not None and abs(now - signed_at) <= max_age


def event_id(value: str) -> str:
    """An id that fits the receipts table: long ones (an email's Message-ID) by their digest."""
    return value if len(value) <= MAX_EVENT_ID else hashlib.sha256(value.encode()).hexdigest()


def receive_once(
    session: Session, provider: str, event_ids: Sequence[str], now: datetime, max_age: timedelta
) -> tuple[Freshness, set[str]]:
    """Record the ids; returns the new ones, which the caller processes in this same transaction."""
    ids = list(dict.fromkeys(event_id(value) for value in event_ids))
    new: set[str] = set()
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    for batch in chunked(ids, 1000):
        rows = [{"provider": provider, "event_id": value, "received_at": now} for value in batch]
        statement = (
            insert(WebhookReceipt)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["provider", "event_id"])
            .returning(col(WebhookReceipt.event_id))
        )
        new.update(session.scalars(statement))
    if new or not ids:
        return Freshness.NEW, new
    first = session.scalar(
        sa.select(sa.func.min(col(WebhookReceipt.received_at))).where(
            col(WebhookReceipt.provider) == provider, col(WebhookReceipt.event_id).in_(ids)
        )
    )
    return (Freshness.DUPLICATE if first is not None and now - first <= max_age else Freshness.REPLAY), set()
