"""PostgreSQL databases for benchmarks: reach a server, create a database (optionally as a copy of a template),
rename and drop it. One place, so every benchmark names, copies and cleans up databases the same way."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from overdue.settings import normalize_database_url
from overdue.store.db import get_engine

PG_URL = os.environ.get("OVERDUE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")


def _checked(name: str) -> str:
    """Database names are interpolated into DDL (they cannot be bound), so only plain lower-case ones pass."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"not a plain database name: {name!r}")
    return name


def _admin(url: str) -> sa.Engine:
    return sa.create_engine(normalize_database_url(url), isolation_level="AUTOCOMMIT")


def _ddl(url: str, statement: str) -> None:
    admin = _admin(url)
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(statement))
    finally:
        admin.dispose()


def database_url(url: str, name: str) -> str:
    """The URL of database `name` on the server (and with the credentials) of `url`."""
    parsed = sa.engine.make_url(normalize_database_url(url))
    return parsed.set(database=_checked(name)).render_as_string(hide_password=False)


def unreachable(url: str = PG_URL) -> str | None:
    """Why the server at `url` cannot be used, or None when it can."""
    admin = _admin(url)
    try:
        with admin.connect() as connection:
            connection.execute(sa.text("select 1"))
    except Exception as exc:  # any failure to connect is a reason to report, not to crash on
        return f"{url}: {exc.__class__.__name__}: {str(exc).splitlines()[0]}"
    finally:
        admin.dispose()
    return None


def server_version(url: str) -> str:
    admin = _admin(url)
    try:
        with admin.connect() as connection:
            return str(connection.execute(sa.text("show server_version")).scalar_one()).split()[0]
    finally:
        admin.dispose()


def databases(url: str, prefix: str) -> list[str]:
    """Names of the databases on the server that start with `prefix` (for cleaning up after a run)."""
    admin = _admin(url)
    try:
        with admin.connect() as connection:
            names = connection.execute(sa.text("select datname from pg_database order by datname")).scalars()
            return [name for name in names if name.startswith(prefix)]
    finally:
        admin.dispose()


def exists(url: str, name: str) -> bool:
    return name in databases(url, name)


def comment(url: str, name: str) -> str | None:
    """The database's comment (benchmarks keep a template's stamp there); None when it has none or is not there."""
    admin = _admin(url)
    try:
        with admin.connect() as connection:
            query = "select shobj_description(oid, 'pg_database') from pg_database where datname = :name"
            found = connection.execute(sa.text(query), {"name": name}).scalar_one_or_none()
            return None if found is None else str(found)
    finally:
        admin.dispose()


def set_comment(url: str, name: str, text: str) -> None:
    admin = _admin(url)
    try:
        with admin.connect() as connection:
            quoted = connection.dialect.identifier_preparer.quote_identifier(_checked(name))
            literal = sa.literal(text).compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True})
            connection.execute(sa.text(f"COMMENT ON DATABASE {quoted} IS {literal}"))
    finally:
        admin.dispose()


def create(url: str, name: str, template: str | None = None) -> str:
    """An empty database, or a copy of `template` (which nobody may be connected to). Returns its URL.
    From PostgreSQL 15 the copy uses FILE_COPY: one checkpoint and a file copy, instead of writing every page
    of a multi-gigabyte template through the WAL."""
    statement = f'CREATE DATABASE "{_checked(name)}"'
    if template is not None:
        statement += f' TEMPLATE "{_checked(template)}"'
        if int(server_version(url).split(".")[0]) >= 15:
            statement += " STRATEGY FILE_COPY"
    _ddl(url, statement)
    return database_url(url, name)


def rename(url: str, old: str, new: str) -> None:
    get_engine(database_url(url, old)).dispose()
    _ddl(url, f'ALTER DATABASE "{_checked(old)}" RENAME TO "{_checked(new)}"')


def drop(url: str, name: str) -> None:
    """Drop the database even if a connection is still open (ours, pooled, or a crashed run's)."""
    get_engine(database_url(url, name)).dispose()
    _ddl(url, f'DROP DATABASE IF EXISTS "{_checked(name)}" WITH (FORCE)')


@contextmanager
def fresh_postgres(url: str = PG_URL) -> Iterator[str]:
    """A uniquely named empty database, dropped at the end (as tests/conftest.py does)."""
    name = f"overdue_bench_{uuid.uuid4().hex[:8]}"
    created = create(url, name)
    try:
        yield created
    finally:
        drop(url, name)
