"""Set-based helpers that work the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import groupby
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, SQLModel

from overdue.store.tables import Account


def insert_ignoring_conflicts(
    session: Session,
    table: type[SQLModel],
    rows: Sequence[dict[str, Any]],
    conflict_columns: Sequence[str],
    *,
    returning: str | None = None,
) -> list[Any]:
    """INSERT ... ON CONFLICT DO NOTHING: the unique constraint, not a prior read, is the final guard. With
    `returning`, that column of the rows actually inserted (a conflicting row returns nothing). On PostgreSQL
    the rows travel by COPY into a temporary table and one INSERT ... SELECT applies them: a pipelined
    statement per row costs ten times more."""
    if not rows:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return _insert_through_copy(session, table.__table__, rows, conflict_columns, returning)  # type: ignore[attr-defined]
    statement = sqlite.insert(table.__table__).on_conflict_do_nothing(index_elements=list(conflict_columns))  # type: ignore[attr-defined]
    if returning is None:
        session.execute(statement, list(rows))
        return []
    returned = table.__table__.c[returning]  # type: ignore[attr-defined]
    return [row[0] for row in session.execute(statement.returning(returned), list(rows))]


def _insert_through_copy(
    session: Session,
    table: sa.Table,
    rows: Sequence[dict[str, Any]],
    conflict_columns: Sequence[str],
    returning: str | None,
) -> list[Any]:
    with staged_rows(session, table, rows) as insert_new:
        statement = insert_new + f" ON CONFLICT ({', '.join(conflict_columns)}) DO NOTHING"
        if returning is not None:
            statement += f" RETURNING {returning}"
        result = session.execute(sa.text(statement))
        return list(result.scalars()) if returning is not None else []


@contextmanager
def staged_rows(session: Session, table: sa.Table, rows: Sequence[dict[str, Any]]) -> Iterator[str]:
    """PostgreSQL: the rows COPY'd into a temporary table, and the `INSERT INTO table (...) SELECT ... FROM` it
    for the caller to finish (a conflict clause, RETURNING, a statement around it) and run before the table is
    dropped."""
    names = sorted({name for row in rows for name in row} | _defaulted(table, rows))
    staging = _staging_table(session, table, names)
    _copy_rows(session, staging, rows)
    columns = ", ".join(names)
    try:
        yield f"INSERT INTO {table.name} ({columns}) SELECT {columns} FROM {staging.name}"
    finally:
        session.execute(sa.text(f"DROP TABLE {staging.name}"))


def _staging_table(session: Session, table: sa.Table, names: Sequence[str]) -> sa.Table:
    """An empty temporary table with these columns of `table`, to COPY rows into before one set-based statement."""
    staging = sa.Table(f"staging_{table.name}", sa.MetaData(), *(sa.Column(n, table.c[n].type) for n in names))
    session.execute(
        sa.text(f"CREATE TEMPORARY TABLE {staging.name} AS SELECT {', '.join(names)} FROM {table.name} WITH NO DATA")
    )
    return staging


def insert_rows(session: Session, table: type[SQLModel], rows: Sequence[dict[str, Any]]) -> None:
    """A bulk INSERT that writes None as NULL: COPY on PostgreSQL (a row costs a few microseconds instead of a
    pipelined statement each), elsewhere one Core executemany per run of rows with the same columns, in their
    order (the ORM's bulk path costs several times more per row and gives nothing back here)."""
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        _copy_rows(session, table.__table__, rows)  # type: ignore[attr-defined]
        return
    session.flush()  # as any statement through the session would: pending ORM changes go first
    statement = sa.insert(table.__table__)  # type: ignore[attr-defined]
    for _, same_columns in groupby(rows, key=lambda row: row.keys()):
        session.connection().execute(statement, list(same_columns))


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
    """Insert and return the new ids in the order of `rows`. On PostgreSQL the ids are taken from the table's
    sequence first and the rows COPY'd with them (a multi-row INSERT ... RETURNING that keeps the order costs
    a hundred microseconds a row); elsewhere one multi-row INSERT ... RETURNING id."""
    if not rows:
        return []
    if session.get_bind().dialect.name == "postgresql":
        name = table.__tablename__  # type: ignore[attr-defined]
        reserve = sa.text(f"SELECT nextval(pg_get_serial_sequence('{name}', 'id')) FROM generate_series(1, :n)")
        ids = sorted(session.scalars(reserve, {"n": len(rows)}))
        _copy_rows(session, table.__table__, [{**row, "id": id_} for row, id_ in zip(rows, ids, strict=True)])  # type: ignore[attr-defined]
        return ids
    statement = sa.insert(table).returning(table.id, sort_by_parameter_order=True)  # type: ignore[attr-defined]
    return [row[0] for row in session.execute(statement, list(rows))]


def any_of(session: Session, column: Any, values: Sequence[Any]) -> Iterator[sa.ColumnElement[bool]]:
    """Conditions that together pick the rows whose `column` is one of `values`, to run one query each:
    a single `= ANY(array)` on PostgreSQL (one parameter: psycopg spends longer splitting a query with a
    thousand placeholders than the server spends answering it), IN lists of at most 1,000 on SQLite (its
    parameter limit)."""
    if not values:
        return
    if session.get_bind().dialect.name == "postgresql":
        yield column == sa.any_(sa.bindparam(None, list(values), type_=postgresql.ARRAY(column.type)))
        return
    for batch in chunked(values, 1000):
        yield column.in_(batch)


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
    staging = _staging_table(session, table, names)
    _copy_rows(session, staging, rows)
    # Without statistics the planner guesses the staging table's size and may hash the whole target table
    # to join it: a cost that grows with the portfolio instead of with the rows changed.
    session.execute(sa.text(f"ANALYZE {staging.name}"))
    assignments = ", ".join(f"{name} = {staging.name}.{name}" for name in names if name != "id")
    session.execute(
        sa.text(f"UPDATE {table.name} SET {assignments} FROM {staging.name} WHERE {table.name}.id = {staging.name}.id")
    )
    session.execute(sa.text(f"DROP TABLE {staging.name}"))
