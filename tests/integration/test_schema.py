"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel, select

from overdue.store.db import get_engine, session_scope
from overdue.store.migrate import head_revision, schema_is_current, upgrade
from overdue.store.tables import Account, Customer


def test_migrations_match_the_models(database_url: str) -> None:
    with get_engine(database_url).connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []
    assert schema_is_current(database_url)
    assert head_revision() == "0015"


def test_upgrading_a_database_that_holds_data_keeps_it(database_url: str) -> None:
    """Migrations after the first meet real rows (and SQLite's enforced foreign keys), not empty tables."""
    from alembic import command

    from overdue.store.migrate import alembic_config

    command.downgrade(alembic_config(database_url), "0002")
    with session_scope(database_url) as session:
        session.execute(
            sa.text(
                "INSERT INTO customer (external_ref, full_name, time_zone, locale, jurisdiction, vulnerability,"
                " created_at) VALUES ('C-1', 'Old Row', 'UTC', 'en-US', 'US', '[]', '2026-01-01 00:00:00')"
            )
        )
        session.execute(
            sa.text(
                "INSERT INTO account (external_ref, customer_id, product, currency, principal_minor, interest_minor,"
                " fees_minor, placed_balance_minor, due_date, dpd, stage, broken_plans, strategy_arm, version)"
                " SELECT 'A-1', id, 'card', 'USD', 100, 0, 0, 100, '2026-01-01', 0, 'current', 0, 'default', 0"
                " FROM customer"
            )
        )
    upgrade(database_url)
    assert schema_is_current(database_url)
    with session_scope(database_url) as session:
        customer = session.exec(select(Customer)).one()
        assert (customer.full_name, customer.workplace_contact_ok, customer.vulnerability_reviewed_on) == (
            "Old Row",
            False,
            None,
        )
        assert session.exec(select(Account)).one().external_ref == "A-1"
