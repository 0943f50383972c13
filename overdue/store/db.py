"""Engines and sessions. One engine per URL per process; SQLite gets WAL and a busy timeout."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlmodel import Session

from overdue.settings import get_settings, normalize_database_url


@lru_cache(maxsize=8)
def get_engine(url: str | None = None) -> sa.Engine:
    url = normalize_database_url(url or get_settings().effective_database_url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A unit of work: commits on success, rolls back on any error."""
    with Session(get_engine(url), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def refresh_statistics(session: Session, *, changed_only: bool = False) -> None:
    """ANALYZE after a bulk load and before each day's cycle: without statistics both SQLite and PostgreSQL may
    read a table through the wrong index (a shard's facts took 1.6 s instead of 0.16 s), and SQLite never
    gathers them itself. PostgreSQL samples a fixed number of rows per table; SQLite is told to look at a
    sample too (`analysis_limit`), or it would read every index whole.

    `changed_only` (PostgreSQL): only the tables never analysed or changed by more than a tenth since (the
    autovacuum daemon's own rule, applied now rather than whenever it next wakes): before a day's cycle most
    tables have been analysed since their last bulk change, and analysing them all again cost 6 s at a million
    accounts. Not after a load in this same transaction: its changes are counted only once it commits."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(sa.text("PRAGMA analysis_limit = 1000"))
    elif changed_only:
        for table in session.scalars(sa.text(STALE_TABLES)):
            session.execute(sa.text(f'ANALYZE "{table}"'))
        return
    session.execute(sa.text("ANALYZE"))


STALE_TABLES = """
SELECT c.relname FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
WHERE n.nspname = current_schema() AND c.relkind = 'r'
  AND (c.reltuples < 0 OR coalesce(s.n_mod_since_analyze, 0) > 50 + 0.1 * c.reltuples)
ORDER BY c.relname
"""
