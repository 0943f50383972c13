"""The payment webhook on SQLite and PostgreSQL: a signed payment is applied at once (and cancels the reminders
it answers), while forged, tampered, stale and replayed requests get 403 and change nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from httpx import Response
from pydantic import SecretStr
from sqlmodel import col, select

from overdue.runtime import build_runtime
from overdue.settings import Settings
from overdue.store.db import session_scope
from overdue.store.tables import Account, AuditEvent, OutreachMessage, Payment, WebhookReceipt
from overdue.webhooks.app import create_app
from overdue.webhooks.security import payment_signature

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
SECRET = "payment-hub-shared-secret"


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Hub:
    """The payment provider's side: signs and posts events."""

    client: TestClient
    clock: Clock
    url: str

    def post(
        self, event: dict[str, Any], *, secret: str = SECRET, at: datetime | None = None, body: bytes | None = None
    ) -> Response:
        raw = json.dumps(event).encode()
        timestamp = str(int((at or self.clock.now).timestamp()))
        headers = {
            "X-Overdue-Timestamp": timestamp,
            "X-Overdue-Signature": payment_signature(secret, timestamp, raw),
            "Content-Type": "application/json",
        }
        response: Response = self.client.post("/webhooks/payments", content=body or raw, headers=headers)
        return response

    def counts(self) -> tuple[int, int]:
        """Payments and webhook receipts on record."""
        with session_scope(self.url) as session:
            payments = session.scalar(sa.select(sa.func.count()).select_from(Payment)) or 0
            receipts = session.scalar(sa.select(sa.func.count()).select_from(WebhookReceipt)) or 0
        return payments, receipts

    def account(self) -> Account:
        with session_scope(self.url) as session:
            return session.exec(select(Account).where(Account.external_ref == "A-HOOK")).one()


@pytest.fixture
def hub(database_url: str) -> Iterator[Hub]:
    from tests.support import add_account, queue_message

    runtime = build_runtime(Settings(database_url=database_url, payment_webhook_secret=SecretStr(SECRET)), database_url)
    with session_scope(database_url) as session:
        account = add_account(session, "HOOK", due_date=date(2026, 2, 20))  # 107,500 owed: 1,075.00 USD
        queue_message(session, account, "sms", send_at=NOW + timedelta(hours=2))
    clock = Clock()
    with TestClient(create_app(runtime, clock)) as client:
        yield Hub(client, clock, database_url)


def event(event_id: str = "evt-1", payment_ref: str = "PAY-1", amount: str = "1075.00", **extra: Any) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "type": "payment",
        "payment_ref": payment_ref,
        "account_ref": "A-HOOK",
        "amount": amount,
        "currency": "USD",
        "received_on": "2026-03-10",
    } | extra


def test_a_signed_payment_is_applied_at_once_and_cancels_the_queued_reminder(hub: Hub) -> None:
    response = hub.post(event())
    assert (response.status_code, response.json()) == (200, {"status": "recorded", "payment_ref": "PAY-1"})
    account = hub.account()
    assert (account.balance_minor, account.stage) == (0, "closed")
    with session_scope(hub.url) as session:
        assert session.exec(select(OutreachMessage.status)).all() == ["cancelled"]
        actors = session.exec(select(AuditEvent.actor).where(AuditEvent.kind == "payment.received")).all()
    assert actors == ["webhook:payments"]


def test_forged_tampered_and_stale_requests_are_refused_and_change_nothing(hub: Hub) -> None:
    assert hub.post(event(), secret="not-the-secret").status_code == 403
    tampered = json.dumps(event(amount="1.00")).encode()
    assert hub.post(event(), body=tampered).status_code == 403  # signed for 1,075.00, says 1.00
    assert hub.post(event(), at=NOW - timedelta(minutes=10)).status_code == 403  # signed too long ago
    unsigned = hub.client.post("/webhooks/payments", json=event())
    assert unsigned.status_code == 403
    assert hub.counts() == (0, 0)
    assert hub.account().balance_minor == 107_500
    with session_scope(hub.url) as session:
        assert session.exec(select(OutreachMessage.status)).all() == ["queued"]


def test_a_retry_is_answered_once_and_a_replay_is_refused(hub: Hub) -> None:
    first = event(amount="100.00")
    assert hub.post(first).status_code == 200
    hub.clock.now = NOW + timedelta(seconds=30)
    assert hub.post(first).json()["status"] == "duplicate"  # the hub retrying: answered, nothing changes
    assert hub.post(event("evt-other", amount="100.00")).json()["status"] == "duplicate"  # same payment_ref
    hub.clock.now = NOW + timedelta(hours=1)
    assert hub.post(first, at=NOW).status_code == 403  # the old request sent again: stale
    assert hub.post(first).status_code == 403  # the same event re-signed long after: a replay
    assert hub.counts()[0] == 1
    assert hub.account().balance_minor == 107_500 - 10_000


def test_a_chargeback_by_webhook_reopens_the_account(hub: Hub) -> None:
    assert hub.post(event()).status_code == 200
    back = event("evt-2", "CB-1", type="chargeback", reverses="PAY-1")
    assert hub.post(back).json() == {"status": "recorded", "payment_ref": "CB-1"}
    account = hub.account()
    assert (account.balance_minor, account.stage) == (107_500, "reminder")
    with session_scope(hub.url) as session:
        kinds = session.exec(
            select(AuditEvent.kind).where(AuditEvent.account_id == account.id).order_by(col(AuditEvent.id))
        ).all()
    assert kinds[-3:] == ["payment.reversed", "stage.changed", "account.reopened"]


def test_a_payment_that_cannot_be_applied_is_refused_whole_and_can_be_sent_again(hub: Hub) -> None:
    assert hub.post(event(account_ref="A-NOBODY")).status_code == 422
    assert hub.post(event(amount="1.001")).status_code == 422  # more decimals than USD has
    assert hub.post(event("evt-3", "CB-9", type="reversal", reverses="PAY-404")).status_code == 422
    assert hub.counts() == (0, 0)  # not even the receipt: the corrected event may come with the same id
    assert hub.post(event()).status_code == 200


def test_without_a_secret_the_endpoint_refuses_everything(database_url: str) -> None:
    runtime = build_runtime(Settings(database_url=database_url), database_url)
    with TestClient(create_app(runtime, Clock())) as client:
        response = Hub(client, Clock(), database_url).post(event())
    assert response.status_code == 403
