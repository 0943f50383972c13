"""Set-based helpers that work the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.util import identity_key
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
    """A bulk INSERT that writes None as NULL: COPY on PostgreSQL (a row costs a few microseconds instead of a
    pipelined statement each), one executemany elsewhere. Without `render_nulls` the ORM would leave a None
    column out of the statement and start a new batch at every change of shape."""
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        _copy_rows(session, table.__table__, rows)  # type: ignore[attr-defined]
    else:
        session.execute(sa.insert(table).execution_options(render_nulls=True), list(rows))


def _copy_rows(session: Session, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """COPY FROM STDIN, each value passed through its column type's bind processing (UTC instants, JSON)
    exactly as an INSERT through SQLAlchemy would; a column a row leaves out gets its default."""
    session.flush()  # as any statement through the session would: pending ORM changes go first
    dialect = session.get_bind().dialect
    names = sorted({name for row in rows for name in row} | _defaulted(table, rows))
    columns = [table.c[name] for name in names]
    processors = [column.type._cached_bind_processor(dialect) for column in columns]
    defaults = [_scalar_default(column) for column in columns]
    cursor = session.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    statement = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
    with cursor.copy(statement) as copy:
        for row in rows:
            values = [row.get(name, default) for name, default in zip(names, defaults, strict=True)]
            copy.write_row(
                [
                    value if process is None or value is None else process(value)
                    for value, process in zip(values, processors, strict=True)
                ]
            )


def _scalar_default(column: sa.Column[Any]) -> Any:
    default = column.default
    return getattr(default, "arg", None) if default is not None and default.is_scalar else None


def _defaulted(table: sa.Table, rows: Sequence[dict[str, Any]]) -> set[str]:
    """Columns with a Python-side scalar default that the rows leave out (COPY applies no SQLAlchemy default)."""
    present = {name for row in rows for name in row}
    return {c.name for c in table.columns if _scalar_default(c) is not None and c.name not in present}


def insert_returning_ids(session: Session, table: type[SQLModel], rows: Sequence[dict[str, Any]]) -> list[int]:
    """One multi-row INSERT ... RETURNING id, ids in the order of `rows` (SQLite and PostgreSQL alike)."""
    if not rows:
        return []
    statement = sa.insert(table).returning(table.id, sort_by_parameter_order=True)  # type: ignore[attr-defined]
    return [row[0] for row in session.execute(statement, list(rows))]


MAX_SHARDS = 190  # a cycle stays under 200 Prefect task runs: one per shard, plus listing and dispatch


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


def update_by_id(
    session: Session, table: type[SQLModel], rows: Sequence[dict[str, Any]], *, synchronize: bool = True
) -> None:
    """Bulk UPDATE by primary key. Rows are grouped by their columns: one statement needs one shape. On
    PostgreSQL each group is COPY'd into a temporary table and applied with one UPDATE ... FROM, instead of
    one pipelined statement per row. `synchronize=False` leaves objects already loaded in the session as they
    were (faster, for callers that do not read them again)."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    postgres = session.get_bind().dialect.name == "postgresql"
    statement = sa.update(table)
    if not synchronize:
        statement = statement.execution_options(synchronize_session=False)
    for names, group in groups.items():
        if postgres:
            _update_through_copy(session, table.__table__, names, group)  # type: ignore[attr-defined]
            if synchronize:
                _expire_loaded(session, table, names, group)
        else:
            session.execute(statement, group)


def _expire_loaded(
    session: Session, table: type[SQLModel], names: tuple[str, ...], rows: Sequence[dict[str, Any]]
) -> None:
    """Objects of these rows already in the session reload the changed columns on next access, as after an
    ORM bulk UPDATE (the SQL went around the ORM)."""
    changed = [name for name in names if name != "id"]
    for row in rows:
        loaded = session.identity_map.get(identity_key(table, row["id"]))
        if loaded is not None:
            session.expire(loaded, changed)


def _update_through_copy(
    session: Session, table: sa.Table, names: tuple[str, ...], rows: Sequence[dict[str, Any]]
) -> None:
    changes = sa.Table(f"changes_{table.name}", sa.MetaData(), *(sa.Column(n, table.c[n].type) for n in names))
    columns = ", ".join(names)
    session.execute(
        sa.text(f"CREATE TEMPORARY TABLE {changes.name} AS SELECT {columns} FROM {table.name} WITH NO DATA")
    )
    _copy_rows(session, changes, rows)
    assignments = ", ".join(f"{name} = {changes.name}.{name}" for name in names if name != "id")
    session.execute(
        sa.text(f"UPDATE {table.name} SET {assignments} FROM {changes.name} WHERE {table.name}.id = {changes.name}.id")
    )
    session.execute(sa.text(f"DROP TABLE {changes.name}"))
