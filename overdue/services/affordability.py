"""Affordability statements (from an agent, a customer's reply or an import) and the hardship flag.

The hardship flag is the existing `hardship` hold (overdue/services/holds.py), placed with its reason: it
stops collection contact under the policies that list it, lets the interest-suspended plan be offered
within the bounds, and is in the audit trail as `hold.placed` like every hold. A statement that leaves no
capacity to pay flags hardship by itself, saying so.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Session, col

from overdue.config import Configuration
from overdue.domain.affordability import Statement, capacity_to_pay
from overdue.domain.money import format_money
from overdue.services.audit import record
from overdue.services.holds import hold_in_force, place_hold
from overdue.store.bulk import chunked
from overdue.store.tables import Account, AffordabilityStatement, Customer, Hold

SOURCES = ("agent", "sms", "email", "import")
HARDSHIP = "hardship"


class AffordabilityError(ValueError):
    pass


def record_statement(
    session: Session,
    config: Configuration,
    account_id: int,
    statement: Statement,
    source: str,
    actor: str,
    now: datetime,
    *,
    hardship_reason: str | None = None,
    note: str = "",
    statement_ref: str | None = None,
) -> AffordabilityStatement:
    """Keep the statement with its capacity to pay; flag hardship when a reason is given or nothing is left."""
    if source not in SOURCES:
        raise AffordabilityError(f"unknown source '{source}' (one of {', '.join(SOURCES)})")
    account = session.get(Account, account_id)
    if account is None:
        raise AffordabilityError(f"account {account_id} does not exist")
    customer = session.get(Customer, account.customer_id)
    assert customer is not None
    assert customer.id is not None
    rule = config.offers.policy(customer.jurisdiction, account.product).affordability
    try:
        capacity = capacity_to_pay(statement, account.currency, rule)
    except ValueError as exc:
        raise AffordabilityError(str(exc)) from None
    kept = AffordabilityStatement(
        statement_ref=statement_ref,
        customer_id=customer.id,
        account_id=account_id,
        currency=account.currency,
        income_minor=statement.income_minor,
        expenses_minor=statement.expenses_minor,
        dependants=statement.dependants,
        capacity_minor=capacity,
        source=source,
        recorded_by=actor,
        note=note.strip(),
        recorded_at=now,
    )
    reason = (hardship_reason or "").strip()
    if not reason and capacity == 0:
        money = format_money(statement.income_minor - statement.expenses_minor, account.currency, customer.locale)
        reason = f"no capacity to pay: income less expenses is {money} for {statement.dependants} dependant(s)"
    if reason and hardship_hold(session, account_id, now.date()) is None:
        kept.hardship_hold_id = place_hold(session, account_id, HARDSHIP, reason, actor, now.date(), now).id
    session.add(kept)
    session.flush()
    record(
        session,
        "affordability.recorded",
        actor,
        now,
        account_id,
        statement_id=kept.id,
        source=source,
        income_minor=statement.income_minor,
        expenses_minor=statement.expenses_minor,
        dependants=statement.dependants,
        capacity_minor=capacity,
        hardship=bool(reason),
    )
    return kept


def latest_statement(session: Session, customer_id: int) -> AffordabilityStatement | None:
    return session.scalars(
        sa.select(AffordabilityStatement)
        .where(col(AffordabilityStatement.customer_id) == customer_id)
        .order_by(col(AffordabilityStatement.recorded_at).desc(), col(AffordabilityStatement.id).desc())
        .limit(1)
    ).first()


def latest_capacity(session: Session, customer_id: int, currency: str) -> int | None:
    statement = latest_statement(session, customer_id)
    return statement.capacity_minor if statement is not None and statement.currency == currency else None


def capacities(session: Session, customer_ids: list[int]) -> dict[tuple[int, str], int]:
    """The latest capacity of each customer, per currency, a query per thousand customers (for the cycle)."""
    found: dict[tuple[int, str], int] = {}
    for batch in chunked(customer_ids, 1000):
        rows = session.execute(
            sa.select(
                col(AffordabilityStatement.customer_id),
                col(AffordabilityStatement.currency),
                col(AffordabilityStatement.capacity_minor),
            )
            .where(col(AffordabilityStatement.customer_id).in_(batch))
            .order_by(col(AffordabilityStatement.recorded_at), col(AffordabilityStatement.id))
        ).all()
        found.update({(customer_id, currency): capacity for customer_id, currency, capacity in rows})
    return found


def hardship_hold(session: Session, account_id: int, today: date) -> Hold | None:
    return hold_in_force(session, account_id, HARDSHIP, today)
