"""Small builders shared by tests: a runtime for a database, a customer with an account, a task."""

from __future__ import annotations

import io
import os
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

import pytest
from sqlmodel import Session, select

from overdue.runtime import Runtime, build_runtime
from overdue.services.shard_cycle import run_shard
from overdue.settings import Settings
from overdue.store.tables import Account, ContactPoint, Customer, HumanTask, OutreachMessage

NOW = datetime(2026, 3, 10, 0, 0, tzinfo=UTC)
IN_CI = os.environ.get("CI", "").lower() == "true"


def require(available: bool, component: str, reason: str) -> None:
    """Skip (loudly) without a component; under CI=true a missing component is a failure."""
    if available:
        return
    message = f"{component} NOT AVAILABLE: {reason}"
    if IN_CI:
        pytest.fail(message + " (CI=true: components are required)")
    pytest.skip(message)


def make_runtime(url: str) -> Runtime:
    return build_runtime(Settings(database_url=url), url)


def add_account(
    session: Session,
    ref: str,
    *,
    due_date: date,
    principal_minor: int = 100_000,
    interest_minor: int = 5_000,
    fees_minor: int = 2_500,
    jurisdiction: str = "US",
    currency: str = "USD",
    locale: str = "en-US",
    time_zone: str = "America/New_York",
    channels: tuple[str, ...] = ("sms", "voice", "email", "letter"),
) -> Account:
    customer = Customer(
        external_ref=f"C-{ref}",
        full_name="Test Person" if locale == "en-US" else "测试用户",
        time_zone=time_zone,
        locale=locale,
        jurisdiction=jurisdiction,
        created_at=NOW,
    )
    session.add(customer)
    session.flush()
    addresses = {"sms": "+12125550123", "voice": "+12125550123", "email": f"{ref}@example.com", "letter": "1 Main St"}
    for channel in channels:
        session.add(ContactPoint(customer_id=customer.id, channel=channel, address=addresses[channel], consent=True))  # type: ignore[arg-type]
    account = Account(
        external_ref=f"A-{ref}",
        customer_id=customer.id,  # type: ignore[arg-type]
        product="credit_card",
        currency=currency,
        principal_minor=principal_minor,
        interest_minor=interest_minor,
        fees_minor=fees_minor,
        placed_balance_minor=principal_minor + interest_minor + fees_minor,
        due_date=due_date,
    )
    session.add(account)
    session.flush()
    return account


def add_message(session: Session, account: Account, at: datetime, **fields: Any) -> OutreachMessage:
    """An outbox message written directly, as if the cycle had planned it: a queued SMS unless told otherwise."""
    message = OutreachMessage(
        **{
            "idempotency_key": f"test:{account.id}:{at.isoformat()}",
            "account_id": account.id,
            "customer_id": account.customer_id,
            "channel": "sms",
            "address": "+12125550123",
            "template": "reminder_early",
            "locale": "en-US",
            "stage": "reminder",
            "step": "x",
            "body": "x",
            "status": "queued",
            "send_at": at,
            "created_at": at,
        }
        | fields
    )
    session.add(message)
    session.flush()
    return message


def add_escalation_task(
    session: Session,
    account: Account,
    *,
    created_at: datetime = NOW,
    requested_by: str = "system:cycle",
    sla: timedelta = timedelta(hours=72),
) -> HumanTask:
    """An open legal-escalation approval task, as the daily cycle writes one (for an account in negotiation)."""
    account.stage = "negotiation"
    session.add(account)
    task = HumanTask(
        kind="legal_escalation",
        account_id=account.id,  # type: ignore[arg-type]
        payload={
            "rule": "long_delinquent",
            "dpd": account.dpd,
            "balance_minor": account.balance_minor,
            "currency": account.currency,
            "broken_plans": account.broken_plans,
        },
        role_needed="legal",
        requested_by=requested_by,
        created_at=created_at,
        due_at=created_at + sla,
    )
    session.add(task)
    session.flush()
    return task


SHARD = (1, 10_000)


def with_champion(runtime: Runtime, **changes: object) -> Runtime:
    """The runtime with its champion strategy (the arm test accounts follow) changed, e.g. sms_max_segments=1."""
    strategy = runtime.config.strategy.model_copy(update=changes)
    strategies = {**runtime.config.strategies, strategy.name: strategy}
    return replace(runtime, config=replace(runtime.config, strategy=strategy, strategies=strategies))


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def run_day(session: Session, runtime: Runtime, day: date) -> None:
    """The daily cycle's work, without Prefect, in the order each shard does it."""
    run_shard(session, runtime, day, midnight(day), SHARD)


def pdf_text(pdf: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def pdf_fonts(pdf: bytes) -> dict[str, bool]:
    """Every font the PDF's pages use, by base name, and whether its file is embedded in the PDF."""
    from pypdf import PdfReader
    from pypdf.generic import DictionaryObject

    fonts: dict[str, bool] = {}
    for page in PdfReader(io.BytesIO(pdf)).pages:
        resources = cast(DictionaryObject, page["/Resources"])
        for ref in cast(DictionaryObject, resources["/Font"]).values():
            font = cast(DictionaryObject, ref.get_object())
            descriptor = font.get("/FontDescriptor")
            embedded = descriptor is not None and any(
                key in cast(DictionaryObject, descriptor.get_object())
                for key in ("/FontFile", "/FontFile2", "/FontFile3")
            )
            fonts[str(font["/BaseFont"])] = embedded
    return fonts


def queue_message(
    session: Session,
    account: Account,
    channel: str,
    *,
    address: str | None = None,
    body: str = "Please call us back.",
    subject: str | None = None,
    send_at: datetime = NOW,
    purpose: str = "collection",
) -> OutreachMessage:
    """A message waiting in the outbox for the account's customer, as the cycle queues one."""
    if address is None:
        address = session.exec(
            select(ContactPoint.address).where(
                ContactPoint.customer_id == account.customer_id, ContactPoint.channel == channel
            )
        ).one()
    if channel == "email" and subject is None:
        subject = "About your account"
    message = OutreachMessage(
        idempotency_key=f"test:{account.id}:{channel}:{address}:{send_at.isoformat()}",
        account_id=account.id,  # type: ignore[arg-type]
        customer_id=account.customer_id,
        channel=channel,
        address=address,
        template="reminder_early",
        locale="en-US",
        stage="reminder",
        step=f"test_{channel}",
        purpose=purpose,
        subject=subject,
        body=body,
        status="queued",
        send_at=send_at,
        created_at=send_at,
    )
    session.add(message)
    account.stage = "reminder"
    session.add(account)
    session.flush()
    return message
