"""Dashboard sessions: opened by a sign-in, carried by a signed cookie, checked against this table on every
page run, so signing out (or disabling the person) ends them on the server whatever cookie is still out.

The signing key comes from OVERDUE_SESSION_SECRET; a SQLite demo without it gets a development key file, and
any other database refuses to start without it, as with the data keys.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlmodel import Session, col

from overdue.config import ConfigError
from overdue.domain import session_tokens
from overdue.services.audit import record
from overdue.settings import Settings
from overdue.store.sealed import development_secret
from overdue.store.tables import DashboardSession, DashboardUser

ENV = "OVERDUE_SESSION_SECRET"
DEV_SECRET_FILE = "dev-session.key"
MIN_SECRET = 32
HANDOFF_SECONDS = 60
logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The person behind a session, as pages ask about them."""

    user_id: int
    name: str
    roles: frozenset[str]
    locale: str
    session_id: str | None  # None when a trusted proxy vouched for the person


def session_key(settings: Settings, database_url: str) -> bytes:
    if settings.session_secret is not None:
        secret = settings.session_secret.get_secret_value()
        if len(secret) < MIN_SECRET:
            raise ConfigError(f"{ENV} is too short: at least {MIN_SECRET} characters (`openssl rand -hex 32`)")
        return secret.encode("utf-8")
    if make_url(database_url).get_backend_name() != "sqlite":
        raise ConfigError(f"{ENV} is not set: a database other than SQLite needs the key that signs sign-ins")
    return _development_secret(settings.data_dir / DEV_SECRET_FILE).encode("ascii")


@lru_cache(maxsize=4)
def _development_secret(path: Path) -> str:
    secret = development_secret(path, lambda: secrets.token_hex(32))
    logger.warning("Dashboard sessions are signed with the development key %s; production must set %s.", path, ENV)
    return secret


def open_session(session: Session, user: DashboardUser, now: datetime, hours: float) -> str:
    """A new session for a person who just proved who they are; returns its id (never stored as such)."""
    session_id = session_tokens.new_session_id()
    assert user.id is not None
    session.add(
        DashboardSession(
            token_digest=session_tokens.digest(session_id),
            user_id=user.id,
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    record(session, "user.signed_in", user.name, now)
    return session_id


def _signed_in(row: sa.Row[Any], session_id: str | None) -> SignedIn:
    return SignedIn(row[0], row[1], frozenset(row[2]), row[3], session_id)


def _active_user() -> sa.Select[Any]:
    return sa.select(
        col(DashboardUser.id), col(DashboardUser.name), col(DashboardUser.roles), col(DashboardUser.locale)
    ).where(col(DashboardUser.disabled_at).is_(None))


def resolve(session: Session, session_id: str, now: datetime) -> SignedIn | None:
    """The person of a live session (not revoked, not expired, not disabled), in one indexed lookup."""
    row = session.execute(
        _active_user()
        .join(DashboardSession, col(DashboardSession.user_id) == col(DashboardUser.id))
        .where(
            col(DashboardSession.token_digest) == session_tokens.digest(session_id),
            col(DashboardSession.revoked_at).is_(None),
            col(DashboardSession.expires_at) > now,
        )
    ).first()
    return None if row is None else _signed_in(row, session_id)


def resolve_name(session: Session, name: str) -> SignedIn | None:
    """An active user by name, for a trusted proxy's header: the proxy says who, our table says what they may."""
    row = session.execute(_active_user().where(col(DashboardUser.name) == name.strip())).first()
    return None if row is None else _signed_in(row, None)


def recheck(session: Session, person: SignedIn, now: datetime) -> SignedIn | None:
    """The same person, if still signed in now (their session, or for a proxy's user their account, still
    active): for work done outside a page run, such as a download, that must not outlive a sign-out."""
    if person.session_id is None:
        return resolve_name(session, person.name)
    return resolve(session, person.session_id, now)


def claim_handoff(session: Session, session_id: str, now: datetime) -> bool:
    """The cookie for a session is issued once: a hand-off ticket seen a second time (copied from a history or
    a log) gets nothing."""
    claimed = session.execute(
        sa.update(DashboardSession)
        .where(
            col(DashboardSession.token_digest) == session_tokens.digest(session_id),
            col(DashboardSession.cookie_issued_at).is_(None),
            col(DashboardSession.revoked_at).is_(None),
            col(DashboardSession.expires_at) > now,
        )
        .values(cookie_issued_at=now)
    )
    return bool(claimed.rowcount)  # type: ignore[attr-defined]


def close_session(session: Session, signed_in: SignedIn, now: datetime) -> None:
    if signed_in.session_id is None:
        return
    session.execute(
        sa.update(DashboardSession)
        .where(
            col(DashboardSession.token_digest) == session_tokens.digest(signed_in.session_id),
            col(DashboardSession.revoked_at).is_(None),
        )
        .values(revoked_at=now)
    )
    record(session, "user.signed_out", signed_in.name, now)
