"""Small builders shared by tests: a runtime for a database, a customer with an account, a task."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlmodel import Session, select

from overdue.runtime import Runtime, build_runtime
from overdue.services import cycle, outreach
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


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def run_day(session: Session, runtime: Runtime, day: date) -> None:
    """The daily cycle's steps in the order the flow runs them, without Prefect."""
    now = midnight(day)
    cycle.monitor_plans(session, runtime.config, day, now, SHARD)
    cycle.classify_accounts(session, runtime.config, day, now, SHARD)
    for stage in ("reminder", "plan"):
        outreach.plan_outreach(session, runtime.config, runtime.renderer, runtime.sender, stage, day, now, SHARD)
    cycle.make_offers(session, runtime.config, day, now, SHARD)
    outreach.plan_outreach(session, runtime.config, runtime.renderer, runtime.sender, "negotiation", day, now, SHARD)
    cycle.propose_escalations(session, runtime.config, day, now, SHARD)


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
