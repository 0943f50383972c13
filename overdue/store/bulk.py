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


MAX_SHARDS = 190  # a cycle stays under 200 Prefect task runs: one per shard, plus listing and dispatch


def insert_returning_ids(session: Session, table: type[SQLModel], rows: Sequence[dict[str, Any]]) -> list[int]:
    """One multi-row INSERT ... RETURNING id, ids in the order of `rows` (SQLite and PostgreSQL alike)."""
    if not rows:
        return []
    statement = sa.insert(table).returning(table.id, sort_by_parameter_order=True)  # type: ignore[attr-defined]
    return [row[0] for row in session.execute(statement, list(rows))]


def account_shards(session: Session, shard_size: int, max_shards: int = MAX_SHARDS) -> list[tuple[int, int]]:
    """Contiguous id ranges [low, high] of about `shard_size` ids each, for batch work; wider ranges when
    that would make more than `max_shards` of them."""
    low, high = session.execute(sa.select(sa.func.min(Account.id), sa.func.max(Account.id))).one()
    if low is None:
        return []
    size = max(shard_size, -(-(high - low + 1) // max_shards))
    return [(start, min(start + size - 1, high)) for start in range(low, high + 1, size)]


def chunked(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def update_by_id(session: Session, table: type[SQLModel], rows: Sequence[dict[str, Any]]) -> None:
    """Bulk UPDATE by primary key. Rows are grouped by their columns: one statement needs one shape."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    for group in groups.values():
        session.execute(sa.update(table), group)
