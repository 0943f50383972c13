"""The webhooks service on SQLite and PostgreSQL: correctly signed, forged and replayed requests from Twilio and
SendGrid, what each report or reply changes, and that a duplicate delivery changes it once."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from httpx import Response
from pydantic import SecretStr
from sendgrid.helpers.eventwebhook import EventWebhook
from sqlmodel import Session, col, select
from twilio.request_validator import RequestValidator

from overdue.channels.unsubscribe import token_for
from overdue.runtime import Runtime, build_runtime
from overdue.services.dispatch import dispatch_due
from overdue.services.personal_data import rotate_sealed
from overdue.settings import Settings
from overdue.store.db import session_scope
from overdue.store.sealed import Vault, new_key
from overdue.store.tables import (
    Account,
    AuditEvent,
    ContactPoint,
    Conversation,
    Evidence,
    Hold,
    HumanTask,
    InboundMessage,
    OutreachMessage,
    WebhookError,
)
from overdue.webhooks.app import create_app
from overdue.webhooks.security import sendgrid_signed
from tests.prism import free_port
from tests.support import add_account, queue_message

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)  # 11:00 in New York
TOKEN = "twilio-auth-token"
PUBLIC = "https://hooks.example.com"
CUSTOMER_PHONE = "+12125550123"
SECRET = SecretStr("unsubscribe-secret")
PRIVATE = ec.generate_private_key(ec.SECP256R1())
PUBLIC_KEY = base64.b64encode(
    PRIVATE.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
).decode()


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Service:
    client: TestClient
    clock: Clock
    runtime: Runtime
    url: str

    def session(self) -> Any:
        return session_scope(self.url)

    # --- Twilio -----------------------------------------------------------------------------------------

    def twilio(self, path: str, fields: dict[str, str], *, forged: bool = False) -> Response:
        signature = RequestValidator("not-the-token" if forged else TOKEN).compute_signature(PUBLIC + path, fields)
        response: Response = self.client.post(path, data=fields, headers={"X-Twilio-Signature": signature})
        return response

    def text(self, body: str, sid: str, sender: str = CUSTOMER_PHONE) -> Response:
        return self.twilio(
            "/webhooks/twilio/sms", {"MessageSid": sid, "From": sender, "To": "+12125550100", "Body": body}
        )

    # --- SendGrid ---------------------------------------------------------------------------------------

    def signed(
        self, body: bytes, key: ec.EllipticCurvePrivateKey = PRIVATE, at: datetime | None = None
    ) -> dict[str, str]:
        timestamp = str(int((at or self.clock.now).timestamp()))
        signature = base64.b64encode(key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))).decode()
        return {
            "X-Twilio-Email-Event-Webhook-Signature": signature,
            "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
        }

    def events(self, events: list[dict[str, Any]], **signing: Any) -> Response:
        body = json.dumps(events).encode()
        headers = self.signed(body, **signing) | {"Content-Type": "application/json"}
        response: Response = self.client.post("/webhooks/sendgrid/events", content=body, headers=headers)
        return response


@pytest.fixture
def service(database_url: str) -> Iterator[Service]:
    settings = Settings(
        database_url=database_url,
        twilio_auth_token=SecretStr(TOKEN),
        public_url=PUBLIC,
        unsubscribe_secret=SECRET,
        sendgrid_event_public_key=PUBLIC_KEY,
        sendgrid_parse_public_key=PUBLIC_KEY,
    )
    runtime = build_runtime(settings, database_url)
    clock = Clock()
    with TestClient(create_app(runtime, clock)) as client:
        yield Service(client, clock, runtime, database_url)


def sent_message(session: Session, channel: str, provider: str, provider_id: str | None, ref: str = "W1") -> int:
    account = add_account(session, ref, due_date=date(2026, 3, 1))
    message = queue_message(session, account, channel)
    message.status, message.provider, message.provider_id, message.sent_at = "sent", provider, provider_id, NOW
    session.add(message)
    session.flush()
    assert message.id is not None
    return message.id


def audit_kinds(session: Session) -> list[str]:
    return list(session.exec(select(AuditEvent.kind).order_by(col(AuditEvent.id))))


def count(session: Session, table: type[Any]) -> int:
    return int(session.scalar(sa.select(sa.func.count()).select_from(table)) or 0)


# --- Twilio status callbacks ----------------------------------------------------------------------------------


def test_a_delivery_report_is_recorded_once(service: Service) -> None:
    with service.session() as session:
        message_id = sent_message(session, "sms", "twilio", "SM1")
    path = f"/webhooks/twilio/status?message={message_id}"
    fields = {"MessageSid": "SM1", "MessageStatus": "delivered", "AccountSid": "AC1"}
    assert service.twilio(path, fields).status_code == 204
    assert service.twilio(path, fields).status_code == 204  # Twilio trying again: answered, not redone
    with service.session() as session:
        message = session.get(OutreachMessage, message_id)
        assert (message.status, message.delivery, message.delivery_at) == ("sent", "delivered", NOW)
        assert audit_kinds(session).count("message.delivered") == 1
    service.clock.now = NOW + timedelta(minutes=6)
    assert service.twilio(path, fields).status_code == 403  # the same request long after: a replay


def test_a_forged_report_changes_nothing(service: Service) -> None:
    with service.session() as session:
        message_id = sent_message(session, "sms", "twilio", "SM1")
        before = audit_kinds(session)
    fields = {"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "30006"}
    path = f"/webhooks/twilio/status?message={message_id}"
    assert service.twilio(path, fields, forged=True).status_code == 403
    assert service.client.post(path, data=fields).status_code == 403  # unsigned
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + path, fields)
    tampered = fields | {"ErrorCode": "30005"}
    assert service.client.post(path, data=tampered, headers={"X-Twilio-Signature": signature}).status_code == 403
    with service.session() as session:
        assert session.get(OutreachMessage, message_id).delivery is None
        assert audit_kinds(session) == before
        assert session.exec(select(ContactPoint.invalid_at).where(ContactPoint.channel == "sms")).one() is None
        refusals = session.exec(select(WebhookError).order_by(col(WebhookError.id))).all()
    assert [(r.path, r.status, r.detail) for r in refusals] == [
        ("/webhooks/twilio/status", 403, "signature does not match")
    ] * 3


def test_an_undeliverable_number_is_marked_and_a_late_sent_report_changes_nothing(service: Service) -> None:
    with service.session() as session:
        message_id = sent_message(session, "sms", "twilio", "SM1")
    path = f"/webhooks/twilio/status?message={message_id}"
    undelivered = {"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "30006"}
    assert service.twilio(path, undelivered).status_code == 204
    assert service.twilio(path, {"MessageSid": "SM1", "MessageStatus": "sent"}).status_code == 204  # out of order
    with service.session() as session:
        assert session.get(OutreachMessage, message_id).delivery == "undelivered"
        point = session.exec(select(ContactPoint).where(ContactPoint.channel == "sms")).one()
        assert point.invalid_at == NOW
        failed = session.exec(select(AuditEvent).where(AuditEvent.kind == "message.failed")).one()
        assert failed.data | {"key": None} == failed.data | {
            "key": None,
            "stage": "delivery",
            "delivery": "undelivered",
            "error": "error 30006",
        }


def test_a_report_settles_a_message_whose_send_was_cut_off(service: Service) -> None:
    """The dispatcher claimed it (sending) and died before recording Twilio's answer: the callback settles it."""
    with service.session() as session:
        message_id = sent_message(session, "voice", "twilio", None)
        message = session.get(OutreachMessage, message_id)
        message.status, message.provider, message.sent_at = "sending", None, None
        session.add(message)
    path = f"/webhooks/twilio/status?message={message_id}"
    stamp = "Tue, 10 Mar 2026 15:00:00 +0000"
    assert service.twilio(path, {"CallSid": "CA9", "CallStatus": "ringing", "Timestamp": stamp}).status_code == 204
    with service.session() as session:
        message = session.get(OutreachMessage, message_id)
        assert (message.status, message.provider, message.provider_id, message.sent_at) == (
            "sent",
            "twilio",
            "CA9",
            NOW,
        )
        sent = session.exec(select(AuditEvent).where(AuditEvent.kind == "message.sent")).one()
        assert sent.data["reconciled"] is True
    stale = "Tue, 10 Mar 2026 14:50:00 +0000"
    assert service.twilio(path, {"CallSid": "CA9", "CallStatus": "completed", "Timestamp": stale}).status_code == 403


def test_a_report_on_a_message_sent_through_the_twilio_mock(database_url: str, mocks: Any) -> None:
    """End to end: the outbox sends through the SDK to the mock, Twilio's callback (signed) comes back."""
    settings = Settings(
        database_url=database_url,
        outreach_mode_sms="live",
        twilio_account_sid="AC" + "0123456789abcdef" * 2,
        twilio_auth_token=SecretStr(TOKEN),
        twilio_from_number="+12125550100",
        twilio_base_url=mocks.twilio_url,
        public_url=PUBLIC,
    )
    runtime = build_runtime(settings, database_url)
    with session_scope(database_url) as session:
        queue_message(session, add_account(session, "E2E", due_date=date(2026, 3, 1)), "sms")
    with session_scope(database_url) as session:
        assert dispatch_due(session, runtime.config, runtime.channel, NOW).sent == 1
        message = session.exec(select(OutreachMessage)).one()
    assert message.provider_id is not None
    service = Service(TestClient(create_app(runtime, Clock())), Clock(), runtime, database_url)
    fields = {"MessageSid": message.provider_id, "MessageStatus": "delivered"}
    assert service.twilio(f"/webhooks/twilio/status?message={message.id}", fields).status_code == 204
    with session_scope(database_url) as session:
        assert session.get(OutreachMessage, message.id).delivery == "delivered"  # type: ignore[union-attr]


# --- Twilio: customers' texts ---------------------------------------------------------------------------------


def test_stop_opts_out_with_one_confirmation_that_the_guard_lets_through(service: Service) -> None:
    with service.session() as session:
        sent_message(session, "sms", "twilio", "SM1")
    answer = service.text("STOP", "SMin1")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/xml")
    assert "<Message>" not in answer.text
    assert service.text("stop please", "SMin2").status_code == 200  # already out: no second confirmation
    with service.session() as session:
        point = session.exec(select(ContactPoint).where(ContactPoint.channel == "sms")).one()
        assert point.opted_out_at == NOW
        confirmations = session.exec(
            select(OutreachMessage).where(OutreachMessage.purpose == "optout_confirmation")
        ).all()
        assert [(m.address, m.status) for m in confirmations] == [(CUSTOMER_PHONE, "queued")]
        assert "START" in confirmations[0].body
        assert audit_kinds(session).count("optout") == 1
    with service.session() as session:
        counts = dispatch_due(session, service.runtime.config, service.runtime.channel, NOW)
        assert counts.sent == 1  # the opt-out blocks everything else, not its one confirmation
    assert service.text("START", "SMin3").status_code == 200
    with service.session() as session:
        assert session.exec(select(ContactPoint.opted_out_at).where(ContactPoint.channel == "sms")).one() is None
        assert audit_kinds(session).count("optin") == 1


def test_help_is_answered_at_once(service: Service) -> None:
    with service.session() as session:
        sent_message(session, "sms", "twilio", "SM1")
    answer = service.text("HELP", "SMin1")
    assert "<Message>" in answer.text
    assert service.runtime.sender.callback_phone in answer.text


def test_a_text_is_processed_once_and_a_replayed_one_refused(service: Service) -> None:
    with service.session() as session:
        sent_message(session, "sms", "twilio", "SM1")
    assert service.text("I lost my job and cannot pay", "SMin1").status_code == 200
    assert service.text("I lost my job and cannot pay", "SMin1").status_code == 200
    assert (
        service.twilio(
            "/webhooks/twilio/sms", {"MessageSid": "SMin9", "From": CUSTOMER_PHONE, "Body": "x"}, forged=True
        ).status_code
        == 403
    )
    service.clock.now = NOW + timedelta(hours=1)
    assert service.text("I lost my job and cannot pay", "SMin1").status_code == 403
    with service.session() as session:
        assert count(session, InboundMessage) == 1
        task = session.exec(select(HumanTask)).one()
        assert (task.kind, task.role_needed, task.payload["intent"]) == ("inbound_message", "agent", "hardship")
        assert task.due_at == NOW + timedelta(hours=24)
        assert session.exec(select(Conversation.outcome)).one() == "hardship"


@pytest.mark.parametrize(
    ("body", "outcome"),
    [("I will pay on 3/20", "promise_to_pay"), ("this is not my debt", "dispute"), ("wrong number", "wrong_party")],
)
def test_what_a_reply_says_is_acted_on(service: Service, body: str, outcome: str) -> None:
    with service.session() as session:
        message_id = sent_message(session, "sms", "twilio", "SM1")
        account_id = session.get(OutreachMessage, message_id).account_id
    assert service.text(body, "SMin1").status_code == 200
    with service.session() as session:
        conversation = session.exec(select(Conversation)).one()
        assert (conversation.account_id, conversation.channel, conversation.outcome) == (account_id, "sms", outcome)
        inbound = session.exec(select(InboundMessage)).one()
        assert inbound.account_id == account_id
        holds = session.exec(select(Hold.kind)).all()
        invalid = session.exec(select(ContactPoint.channel).where(col(ContactPoint.invalid_at).is_not(None))).all()
        if outcome == "promise_to_pay":
            assert inbound.promised_on == date(2026, 3, 20)
            assert "2026-03-20" in conversation.note
        assert holds == (["dispute"] if outcome == "dispute" else [])
        assert sorted(invalid) == (["sms", "voice"] if outcome == "wrong_party" else [])
        reviews = session.exec(select(HumanTask.kind)).all()
        assert reviews == (["dispute_review"] if outcome == "dispute" else [])  # a supervisor checks the dispute


def test_a_stranger_is_kept_but_nothing_is_acted_on(service: Service) -> None:
    assert service.text("who is this?", "SMin1", sender="+12025550173").status_code == 200
    with service.session() as session:
        inbound = session.exec(select(InboundMessage)).one()
        assert (inbound.customer_id, inbound.account_id, inbound.intent) == (None, None, "wrong_number")
        received = session.exec(select(AuditEvent).where(AuditEvent.kind == "inbound.received")).one()
        assert received.account_id is None


# --- SendGrid Event Webhook -----------------------------------------------------------------------------------


def event(kind: str, message_id: int, n: int, **extra: Any) -> dict[str, Any]:
    return {
        "email": "w1@example.com",
        "timestamp": int(NOW.timestamp()),
        "event": kind,
        "sg_event_id": f"evt-{n}",
        "sg_message_id": "msg1.filter0001",
        "overdue_message_id": str(message_id),
        **extra,
    }


def test_sendgrid_events_are_verified_and_each_applied_once(service: Service) -> None:
    with service.session() as session:
        delivered = sent_message(session, "email", "sendgrid", None, "E1")
        bounced = sent_message(session, "email", "sendgrid", None, "E2")
        unsubscribed = sent_message(session, "email", "sendgrid", None, "E3")
    batch = [
        event("processed", delivered, 1),
        event("delivered", delivered, 2),
        event("open", delivered, 3),
        event("bounce", bounced, 4, type="bounce", reason="550 no such user"),
        event("unsubscribe", unsubscribed, 5),
        event("group_resubscribe", unsubscribed, 6),  # not tracked
    ]
    assert service.events(batch).status_code == 204
    assert service.events(batch).status_code == 204  # SendGrid trying again
    with service.session() as session:
        assert session.get(OutreachMessage, delivered).delivery == "delivered"
        assert session.get(OutreachMessage, bounced).delivery == "bounced"
        kinds = audit_kinds(session)
        assert (kinds.count("message.delivered"), kinds.count("message.opened"), kinds.count("message.failed")) == (
            1,
            1,
            1,
        )
        points = {p.address: p for p in session.exec(select(ContactPoint).where(ContactPoint.channel == "email"))}
        assert points["E2@example.com"].invalid_at == NOW
        assert points["E3@example.com"].opted_out_at == NOW
        assert points["E1@example.com"].invalid_at is None


def test_forged_stale_and_malformed_sendgrid_requests_are_refused(service: Service) -> None:
    with service.session() as session:
        message_id = sent_message(session, "email", "sendgrid", None)
    batch = [event("bounce", message_id, 1, type="bounce")]
    other_key = ec.generate_private_key(ec.SECP256R1())
    assert service.events(batch, key=other_key).status_code == 403
    assert service.events(batch, at=NOW - timedelta(minutes=10)).status_code == 403
    body = json.dumps(batch).encode()
    headers = service.signed(body)
    tampered = json.dumps([event("delivered", message_id, 1)]).encode()
    assert service.client.post("/webhooks/sendgrid/events", content=tampered, headers=headers).status_code == 403
    malformed = headers | {"X-Twilio-Email-Event-Webhook-Signature": "not base64!"}
    assert service.client.post("/webhooks/sendgrid/events", content=body, headers=malformed).status_code == 403
    assert service.client.post("/webhooks/sendgrid/events", content=body).status_code == 403
    with service.session() as session:
        assert session.get(OutreachMessage, message_id).delivery is None
        assert "message.failed" not in audit_kinds(session)


def test_our_verification_agrees_with_the_sdk_helper() -> None:
    body = json.dumps([{"event": "delivered"}]).encode()
    timestamp = "1773154800"
    signature = base64.b64encode(PRIVATE.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))).decode()
    helper = EventWebhook(PUBLIC_KEY)
    assert helper.verify_signature(body.decode(), signature, timestamp) is True
    assert sendgrid_signed(PUBLIC_KEY, timestamp, body, signature) is True
    assert helper.verify_signature(body.decode() + " ", signature, timestamp) is False
    assert sendgrid_signed(PUBLIC_KEY, timestamp, body + b" ", signature) is False


# --- SendGrid Inbound Parse -----------------------------------------------------------------------------------

RECEIPT = b"%PDF-1.4\n\xe2\xe3\xcf\xd3 a receipt \x00\xff"


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]) -> tuple[bytes, str]:
    """A multipart body built by hand: the signature covers its exact bytes."""
    boundary = "overdue-test-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    for name, (filename, content, kind) in files.items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        parts.append(f"{head}Content-Type: {kind}\r\n\r\n".encode() + content + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def email_reply(service: Service, subject: str, text: str, files: dict[str, tuple[str, bytes, str]]) -> Response:
    fields = {
        "from": "Test Person <W1@Example.com>",
        "to": "replies@bank.example.com",
        "subject": subject,
        "text": text,
        "headers": "Message-ID: <reply-1@mail.example.com>\nSubject: " + subject,
        "attachments": str(len(files)),
    }
    body, kind = multipart(fields, files)
    headers = service.signed(body) | {"Content-Type": kind}
    response: Response = service.client.post("/webhooks/sendgrid/inbound", content=body, headers=headers)
    return response


def test_an_email_reply_with_a_receipt_is_kept_as_evidence(service: Service) -> None:
    with service.session() as session:
        message_id = sent_message(session, "email", "sendgrid", None)
    text = "I already paid last week, receipt attached.\n\nOn Tue, 10 Mar 2026, Bank wrote:\n> please pay"
    files = {"attachment1": ("receipt.pdf", RECEIPT, "application/pdf")}
    assert email_reply(service, "Re: About your account", text, files).status_code == 204
    assert email_reply(service, "Re: About your account", text, files).status_code == 204  # once
    with service.session() as session:
        inbound = session.exec(select(InboundMessage)).one()
        account_id = session.get(OutreachMessage, message_id).account_id
        assert (inbound.channel, inbound.intent, inbound.account_id) == ("email", "paid", account_id)
        evidence = session.exec(select(Evidence)).one()
        assert (evidence.filename, evidence.content_type, evidence.size_bytes) == (
            "receipt.pdf",
            "application/pdf",
            len(RECEIPT),
        )
        assert RECEIPT not in evidence.content_sealed.encode()
        assert service.runtime.vault.open_bytes(evidence.content_sealed) == RECEIPT
        task = session.exec(select(HumanTask)).one()
        assert task.payload["intent"] == "paid"
        assert task.payload["attachments"] == 1
        assert "please pay" not in task.payload["excerpt"]  # the quoted message is not the customer's words
    # `overdue pii rotate-keys` re-seals documents too
    settings = service.runtime.settings
    assert settings.data_keys is not None
    fresh_key = new_key()
    with service.session() as session:
        assert rotate_sealed(session, Vault([fresh_key, settings.data_keys.get_secret_value()])) == 1
        assert Vault([fresh_key]).open_bytes(session.exec(select(Evidence.content_sealed)).one()) == RECEIPT


def test_an_unsubscribe_email_opts_out_of_email(service: Service) -> None:
    with service.session() as session:
        sent_message(session, "email", "sendgrid", None)
    assert email_reply(service, "unsubscribe", "", {}).status_code == 204
    with service.session() as session:
        assert session.exec(select(ContactPoint.opted_out_at).where(ContactPoint.channel == "email")).one() == NOW
        assert session.exec(select(ContactPoint.opted_out_at).where(ContactPoint.channel == "sms")).one() is None


def test_an_inbound_email_signed_with_another_key_is_refused(service: Service) -> None:
    body, kind = multipart({"from": "a@example.com", "text": "STOP"}, {})
    headers = service.signed(body, key=ec.generate_private_key(ec.SECP256R1())) | {"Content-Type": kind}
    assert service.client.post("/webhooks/sendgrid/inbound", content=body, headers=headers).status_code == 403
    with service.session() as session:
        assert count(session, InboundMessage) == 0


# --- the unsubscribe link -------------------------------------------------------------------------------------


def test_the_unsubscribe_link_asks_then_opts_out_once(service: Service) -> None:
    with service.session() as session:
        message_id = sent_message(session, "email", "sendgrid", None)
    path = f"/unsubscribe/{token_for(message_id, SECRET)}"
    page = service.client.get(path)
    assert page.status_code == 200
    assert '<form method="post">' in page.text
    with service.session() as session:
        assert session.exec(select(ContactPoint.opted_out_at).where(ContactPoint.channel == "email")).one() is None
    one_click = {"Content-Type": "application/x-www-form-urlencoded"}
    assert service.client.post(path, content=b"List-Unsubscribe=One-Click", headers=one_click).status_code == 200
    assert service.client.post(path).status_code == 200
    with service.session() as session:
        assert session.exec(select(ContactPoint.opted_out_at).where(ContactPoint.channel == "email")).one() == NOW
        optout = session.exec(select(AuditEvent).where(AuditEvent.kind == "optout")).one()
        assert (optout.data["channel"], optout.data["source"]) == ("email", "unsubscribe link")
    assert service.client.post(f"/unsubscribe/{message_id}.forged").status_code == 404
    assert service.client.get("/unsubscribe/nothing").status_code == 404


def test_accounts_are_untouched_by_a_bad_link(service: Service) -> None:
    with service.session() as session:
        sent_message(session, "sms", "twilio", "SM1")
        sms = session.exec(select(OutreachMessage)).one()
    assert service.client.post(f"/unsubscribe/{token_for(sms.id or 0, SECRET)}").status_code == 404  # not an email
    with service.session() as session:
        assert count(session, Account) == 1
        assert "optout" not in audit_kinds(session)


def test_overdue_webhooks_serve_answers(sqlite_url: str) -> None:
    """The command a user runs: uvicorn serving the app on a port."""
    port = free_port()
    environment = os.environ | {"OVERDUE_DATABASE_URL": sqlite_url, "TWILIO_AUTH_TOKEN": TOKEN}
    command = [sys.executable, "-c", "from overdue.cli import app; app()", "webhooks", "serve", "--port", str(port)]
    server = subprocess.Popen(
        command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=Path(__file__).parents[2]
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read().decode() if server.stdout else ""
                assert time.monotonic() < deadline
                time.sleep(0.3)
        assert health.json() == {"status": "ok"}
        forged = httpx.post(f"http://127.0.0.1:{port}/webhooks/twilio/sms", data={"MessageSid": "SM1"}, timeout=5)
        assert forged.status_code == 403
    finally:
        server.terminate()
        output = server.communicate(timeout=20)[0].decode()
    assert "OVERDUE_SENDGRID_EVENT_PUBLIC_KEY is not set" in output  # told what is not configured
