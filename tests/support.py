"""Small builders shared by tests: a runtime for a database, and a customer with an account."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel import Session

from overdue.runtime import Runtime, build_runtime
from overdue.settings import Settings
from overdue.store.tables import Account, ContactPoint, Customer

NOW = datetime(2026, 3, 10, 0, 0, tzinfo=UTC)


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
