"""What the providers report after a send (delivered, undelivered, bounced, opened, ...): kept beside the message
and in the audit trail, and what a report says about the address written back to its contact point.

A message's `status` stays `sent` whatever becomes of it (an attempt is an attempt, for the contact limits);
`delivery` holds the provider's latest word, which never moves back (a late `sent` after `delivered` changes
nothing). A report for a message still `sending` (the dispatcher stopped before recording the provider's
answer) settles it: the provider had it, so it was sent, and it will not be sent again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col

from overdue.channels.base import Failure
from overdue.logging_redaction import redact
from overdue.services.audit import record
from overdue.services.contact_preferences import invalidate_address, opt_out_address
from overdue.store.tables import OutreachMessage

PROVIDER_ACTOR = "provider"
# How far along a message is: a report of a lower rank than the one recorded is old news.
RANK = {"sent": 1, "deferred": 1, "delivered": 2, "undelivered": 2, "failed": 2, "bounced": 2, "dropped": 2}
FAILED = frozenset({"undelivered", "failed", "bounced", "dropped"})
ENGAGEMENT = {"opened": "message.opened", "clicked": "message.clicked"}


@dataclass(frozen=True)
class DeliveryReport:
    """One provider event about one message, in our words. `status`: a RANK key, or opened, clicked,
    unsubscribed, spam_report. `message_id` is our outbox id when the provider echoes it back (Twilio's
    callback URL, SendGrid's custom args); otherwise the message is found by the provider's id."""

    provider: str
    status: str
    at: datetime
    provider_id: str | None = None
    message_id: int | None = None
    error: str | None = None
    address_fact: Failure | None = None


def apply_report(session: Session, report: DeliveryReport, now: datetime) -> bool:
    """Record the report; False when it is about no message of ours (another system on the same account)."""
    message = _find(session, report)
    if message is None:
        return False
    actor = f"{PROVIDER_ACTOR}:{report.provider}"
    common = {"key": message.idempotency_key, "channel": message.channel, "provider": report.provider}
    if message.status == "sending":
        message.status, message.sent_at = "sent", report.at
        message.provider, message.provider_id = report.provider, report.provider_id or message.provider_id
        record(
            session, "message.sent", actor, now, message.account_id, purpose=message.purpose, reconciled=True, **common
        )
    rank = RANK.get(report.status)
    if rank is not None and report.status != message.delivery and rank >= RANK.get(message.delivery or "", 0):
        message.delivery, message.delivery_at = report.status, report.at
        if report.status == "delivered":
            record(session, "message.delivered", actor, now, message.account_id, **common)
        elif report.status in FAILED:
            details = {"delivery": report.status, "error": report.error}
            record(session, "message.failed", actor, now, message.account_id, stage="delivery", **common, **details)
    if report.status in ENGAGEMENT:
        record(session, ENGAGEMENT[report.status], actor, now, message.account_id, **common)
    session.add(message)
    if report.address_fact is not None:
        reason = redact(f"{report.provider}: {report.status}" + (f" ({report.error})" if report.error else ""))
        record_address_fact(session, message.channel, message.address, report.address_fact, reason, now)
    return True


def _find(session: Session, report: DeliveryReport) -> OutreachMessage | None:
    if report.message_id is not None:
        message = session.get(OutreachMessage, report.message_id)
        if message is not None and message.provider in (None, report.provider):
            return message
    if report.provider_id is None:
        return None
    query = sa.select(OutreachMessage).where(
        col(OutreachMessage.provider) == report.provider, col(OutreachMessage.provider_id) == report.provider_id
    )
    return session.scalars(query.limit(1)).first()


def record_address_fact(
    session: Session, channel: str, address: str, fact: Failure, reason: str, now: datetime
) -> None:
    """A permanent failure is a fact about the address: an invalid one is marked, an unsubscribed one opted out,
    so the guard stops using it and nothing retries it blindly."""
    if fact == Failure.INVALID_ADDRESS:
        invalidate_address(session, channel, address, reason, PROVIDER_ACTOR, now)
    elif fact == Failure.UNSUBSCRIBED:
        opt_out_address(session, channel, address, reason, PROVIDER_ACTOR, now)
