"""Set-based helpers that work the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel

from overdue.store.tables import Account


def insert_ignoring_conflicts(
    session: Session, table: type[SQLModel], rows: Sequence[dict[str, Any]], conflict_columns: Sequence[str]
) -> None:
    """INSERT ... ON CONFLICT DO NOTHING: the unique constraint, not a prior read, is the final guard."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table.__table__).on_conflict_do_nothing(index_elements=list(conflict_columns))  # type: ignore[attr-defined]
    session.execute(statement, list(rows))


def insert_rows(session: Session, table: type[SQLModel], rows: Sequence[dict[str, Any]]) -> None:
    """A bulk INSERT that writes None as NULL. The ORM otherwise leaves a None column out of the statement,
    and every change between rows with and without an optional value (a card number, an opt-out) starts a
    new batch: the rows go in one by one instead of in one executemany."""
    if rows:
        session.execute(sa.insert(table).execution_options(render_nulls=True), list(rows))


def account_shards(session: Session, shard_size: int) -> list[tuple[int, int]]:
    """Contiguous id ranges [low, high] of about `shard_size` accounts each, for batch work."""
    low, high = session.execute(sa.select(sa.func.min(Account.id), sa.func.max(Account.id))).one()
    if low is None:
        return []
    return [(start, min(start + shard_size - 1, high)) for start in range(low, high + 1, shard_size)]


def chunked(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def update_by_id(
    session: Session, table: type[SQLModel], rows: Sequence[dict[str, Any]], *, synchronize: bool = True
) -> None:
    """Bulk UPDATE by primary key. Rows are grouped by their columns: one statement needs one shape.
    `synchronize=False` leaves objects already loaded in the session as they were (faster, for callers that
    do not read them again)."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    statement = sa.update(table)
    if not synchronize:
        statement = statement.execution_options(synchronize_session=False)
    for group in groups.values():
        session.execute(statement, group)
