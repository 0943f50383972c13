"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import overdue.store.tables  # noqa: F401  (registers the tables)
from overdue.store.db import get_engine
from overdue.store.migrate import head_revision, schema_is_current


def test_migrations_match_the_models(database_url: str) -> None:
    with get_engine(database_url).connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []
    assert schema_is_current(database_url)
    assert head_revision() == "0003"
