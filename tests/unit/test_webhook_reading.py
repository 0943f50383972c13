"""How provider events read in our words: statuses, and what they say about the address."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from overdue.channels.base import Failure
from overdue.webhooks.sendgrid import event_report
from overdue.webhooks.twilio import status_report

AT = datetime(2026, 3, 10, 15, tzinfo=UTC)
INVALID = Failure.INVALID_ADDRESS


@pytest.mark.parametrize(
    ("fields", "status", "fact"),
    [
        ({"MessageSid": "SM1", "MessageStatus": "queued"}, "accepted", None),
        ({"MessageSid": "SM1", "MessageStatus": "delivered"}, "delivered", None),
        ({"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "30003"}, "undelivered", None),
        (
            {"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "30005"},
            "undelivered",
            Failure.INVALID_ADDRESS,
        ),
        ({"MessageSid": "SM1", "MessageStatus": "failed", "ErrorCode": "21610"}, "failed", Failure.UNSUBSCRIBED),
        ({"CallSid": "CA1", "CallStatus": "ringing"}, "sent", None),
        ({"CallSid": "CA1", "CallStatus": "completed"}, "delivered", None),
        ({"CallSid": "CA1", "CallStatus": "busy"}, "undelivered", None),
        ({"CallSid": "CA1", "CallStatus": "no-answer"}, "undelivered", None),
    ],
)
def test_twilio_statuses(fields: dict[str, str], status: str, fact: Failure | None) -> None:
    read = status_report(fields, 7, AT)
    assert read is not None
    event, report = read
    assert event.endswith(":" + (fields.get("MessageStatus") or fields["CallStatus"]))
    assert (report.status, report.address_fact, report.message_id, report.at) == (status, fact, 7, AT)


def test_a_callback_about_something_else_is_ignored() -> None:
    assert status_report({"AccountSid": "AC1"}, None, AT) is None
    assert status_report({"MessageSid": "SM1", "MessageStatus": "weird"}, None, AT) is None


@pytest.mark.parametrize(
    ("event", "status", "fact"),
    [
        ({"event": "processed"}, "accepted", None),
        ({"event": "deferred", "response": "try later"}, "deferred", None),
        ({"event": "bounce", "type": "bounce", "reason": "550 unknown user"}, "bounced", Failure.INVALID_ADDRESS),
        ({"event": "bounce", "type": "blocked", "reason": "ip blocked"}, "bounced", None),
        ({"event": "dropped", "reason": "Bounced Address"}, "dropped", Failure.INVALID_ADDRESS),
        ({"event": "dropped", "reason": "Unsubscribed Address"}, "dropped", Failure.UNSUBSCRIBED),
        ({"event": "dropped", "reason": "Spam Content"}, "dropped", None),
        ({"event": "spamreport"}, "spam_report", Failure.UNSUBSCRIBED),
        ({"event": "group_unsubscribe"}, "unsubscribed", Failure.UNSUBSCRIBED),
        ({"event": "click", "url": "https://bank.example.com"}, "clicked", None),
    ],
)
def test_sendgrid_events(event: dict[str, Any], status: str, fact: Failure | None) -> None:
    full = event | {"sg_event_id": "e1", "timestamp": int(AT.timestamp()), "overdue_message_id": "42"}
    read = event_report(full)
    assert read is not None
    identity, report = read
    assert (identity, report.status, report.address_fact, report.message_id, report.at) == ("e1", status, fact, 42, AT)


def test_an_event_without_our_id_or_an_id_of_its_own_still_reads() -> None:
    read = event_report({"event": "delivered", "sg_message_id": "abc.filter1"})
    assert read is not None
    identity, report = read
    assert len(identity) == 64  # a digest of the event stands in for its id
    assert (report.message_id, report.provider_id) == (None, "abc")
    assert event_report({"event": "group_resubscribe"}) is None
