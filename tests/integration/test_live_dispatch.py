"""Dispatch in live mode, on SQLite and PostgreSQL: the outbox through the real SDKs to the provider mocks, each
message once, and what the providers say about an address written back to its contact point."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from pydantic import SecretStr
from sqlmodel import Session, col, select

from overdue.channels.base import Failure, OutgoingMessage, SendResult
from overdue.channels.router import ChannelRouter
from overdue.runtime import Runtime, build_runtime
from overdue.services.dispatch import _claim, dispatch_due
from overdue.settings import Settings
from overdue.store.db import session_scope
from overdue.store.tables import AuditEvent, ContactPoint, OutreachMessage
from tests.prism import ProviderMocks
from tests.scripted import Answer, scripted_provider, twilio_error
from tests.support import add_account, queue_message

pytestmark = pytest.mark.providers

AFTERNOON = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)  # 11:00 in New York: inside every contact window


def live_runtime(url: str, twilio_url: str, sendgrid_url: str, **overrides: Any) -> Runtime:
    settings = Settings(
        database_url=url,
        outreach_mode="live",
        twilio_account_sid="AC" + "0123456789abcdef" * 2,
        twilio_auth_token=SecretStr("test-auth-token"),
        twilio_from_number="+12125550100",
        twilio_base_url=twilio_url,
        sendgrid_api_key=SecretStr("SG.test-key"),
        sendgrid_base_url=sendgrid_url,
        email_from="collections@bank.example.com",
        public_url="https://hooks.example.com",
        unsubscribe_secret=SecretStr("unsubscribe-secret"),
        sms_rate=50.0,
        voice_rate=50.0,
        provider_attempts=2,
        **overrides,
    )
    return build_runtime(settings, url)


def kinds(session: Session, kind: str) -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).where(AuditEvent.kind == kind)))


def test_every_channel_goes_live_once(database_url: str, mocks: ProviderMocks) -> None:
    runtime = live_runtime(database_url, mocks.twilio_url, mocks.sendgrid_url)
    assert {c: runtime.channel.provider_of(c) for c in ("sms", "voice", "email", "letter")} == {
        "sms": "twilio",
        "voice": "twilio",
        "email": "sendgrid",
        "letter": "dry-run",
    }
    with session_scope(database_url) as session:
        for n in range(3):
            account = add_account(session, f"L{n}", due_date=date(2026, 3, 1))
            for channel in ("sms", "voice", "email", "letter"):
                queue_message(session, account, channel)
    with session_scope(database_url) as session:
        counts = dispatch_due(session, runtime.config, runtime.channel, AFTERNOON)
        assert (counts.sent, counts.failed) == (12, 0)
        sent = session.exec(select(OutreachMessage)).all()
        by_channel = {m.channel: (m.status, m.provider, (m.provider_id or "")[:2]) for m in sent}
        assert by_channel == {
            "sms": ("sent", "twilio", "SM"),
            "voice": ("sent", "twilio", "CA"),
            "email": ("sent", "sendgrid", ""),  # the mock answers without an X-Message-Id
            "letter": ("sent", "dry-run", "dr"),
        }
        assert len(kinds(session, "message.sent")) == 12
    with session_scope(database_url) as session:
        again = dispatch_due(session, runtime.config, runtime.channel, AFTERNOON)
        assert (again.sent, again.failed) == (0, 0)


def test_a_claimed_message_is_never_claimed_twice(database_url: str) -> None:
    with session_scope(database_url) as session:
        account = add_account(session, "C1", due_date=date(2026, 3, 1))
        message = queue_message(session, account, "sms")
    with session_scope(database_url) as first, session_scope(database_url) as second:
        assert _claim(first, [message]) == {message.id}
        first.commit()
        assert _claim(second, [message]) == set()


def test_an_invalid_number_is_marked_and_its_next_message_cancelled(database_url: str, mocks: ProviderMocks) -> None:
    runtime = live_runtime(database_url, mocks.twilio_url, mocks.sendgrid_url)
    with session_scope(database_url) as session:
        account = add_account(session, "BAD", due_date=date(2026, 3, 1), channels=("email",))
        session.add(ContactPoint(customer_id=account.customer_id, channel="sms", address="+1212555012", consent=True))
        queue_message(session, account, "sms", address="+1212555012")
    with session_scope(database_url) as session:
        counts = dispatch_due(session, runtime.config, runtime.channel, AFTERNOON)
        assert (counts.sent, counts.failed) == (0, 1)
        message = session.exec(select(OutreachMessage)).one()
        assert (message.status, message.provider_id) == ("failed", None)
        point = session.exec(select(ContactPoint).where(ContactPoint.channel == "sms")).one()
        assert point.invalid_at == AFTERNOON
        [invalidated] = kinds(session, "contact_point.invalidated")
        assert invalidated.data["channel"] == "sms"
        later = queue_message(session, account, "sms", address="+1212555012", send_at=AFTERNOON)
    with session_scope(database_url) as session:
        counts = dispatch_due(session, runtime.config, runtime.channel, AFTERNOON)
        assert counts.cancelled == 1
        assert session.get(OutreachMessage, later.id).status == "cancelled"  # type: ignore[union-attr]


def test_a_number_twilio_says_unsubscribed_is_opted_out(database_url: str, mocks: ProviderMocks) -> None:
    refused = Answer(400, twilio_error(21610, "Attempt to send to unsubscribed recipient"))
    with scripted_provider(refused) as (provider, url):
        runtime = live_runtime(database_url, url, mocks.sendgrid_url)
        with session_scope(database_url) as session:
            account = add_account(session, "STOPPED", due_date=date(2026, 3, 1))
            queue_message(session, account, "sms")
        with session_scope(database_url) as session:
            counts = dispatch_due(session, runtime.config, runtime.channel, AFTERNOON)
    assert (counts.sent, counts.failed, len(provider.received)) == (0, 1, 1)
    with session_scope(database_url) as session:
        point = session.exec(select(ContactPoint).where(ContactPoint.channel == "sms")).one()
        assert point.opted_out_at == AFTERNOON
        [optout] = kinds(session, "optout")
        assert optout.data["source"].startswith("twilio: HTTP 400 error 21610")
        failed = session.scalar(sa.select(sa.func.count()).where(col(OutreachMessage.status) == "failed"))
        assert failed == 1


class NoAnswer:
    """A provider whose answers never arrive."""

    provider = "twilio"

    async def send_batch(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        return [SendResult("twilio", None, False, "no answer from Twilio", Failure.NO_RESPONSE) for _ in messages]


def test_a_message_without_an_answer_stays_claimed_and_is_never_sent_again(database_url: str) -> None:
    runtime = build_runtime(Settings(database_url=database_url), database_url)
    with session_scope(database_url) as session:
        queue_message(session, add_account(session, "MUTE", due_date=date(2026, 3, 1)), "sms")
    router = ChannelRouter({"sms": NoAnswer()})
    with session_scope(database_url) as session:
        counts = dispatch_due(session, runtime.config, router, AFTERNOON)
        assert (counts.sent, counts.failed, counts.unconfirmed) == (0, 0, 1)
    with session_scope(database_url) as session:
        assert dispatch_due(session, runtime.config, router, AFTERNOON).handled == 0
        message = session.exec(select(OutreachMessage)).one()
        assert (message.status, message.provider, message.error) == ("sending", "twilio", "no answer from Twilio")
        assert len(kinds(session, "message.unconfirmed")) == 1
