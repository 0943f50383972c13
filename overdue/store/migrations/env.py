"""Alembic environment: the URL comes from the caller's config, the metadata from our tables."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import overdue.store.tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from overdue.store.db import get_engine

target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    with get_engine(url).connect() as connection:
        if connection.dialect.name == "sqlite":
            # A batch migration rebuilds a table; with foreign keys enforced, dropping the old copy of a
            # referenced table fails. SQLite only honours this pragma outside a transaction.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
