"""Dashboard users: who may sign in, with which roles and in which language. Every change is audited."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from overdue.domain.passwords import DECOY_HASH, check_strength, hash_password, verify_password
from overdue.services.audit import record
from overdue.store.tables import DashboardSession, DashboardUser

ROLES = ("agent", "supervisor", "legal", "manager", "engineer", "admin")
LOCALES = ("en-US", "zh-CN")
NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-@")


class UserError(Exception):
    """A user change that was refused; nothing was written."""


@dataclass(frozen=True, slots=True)
class UserView:
    """A user as lists show one: never the password hash."""

    id: int
    name: str
    roles: frozenset[str]
    locale: str
    disabled: bool


def _view(user: DashboardUser) -> UserView:
    assert user.id is not None
    return UserView(user.id, user.name, frozenset(user.roles), user.locale, user.disabled_at is not None)


def _check_roles(roles: Iterable[str]) -> list[str]:
    chosen = sorted(set(roles))
    if not chosen:
        raise UserError(f"give at least one role ({', '.join(ROLES)})")
    unknown = [role for role in chosen if role not in ROLES]
    if unknown:
        raise UserError(f"unknown role {', '.join(unknown)}: the roles are {', '.join(ROLES)}")
    return chosen


def check_locale(locale: str) -> str:
    if locale not in LOCALES:
        raise UserError(f"unknown language {locale!r}: choose {' or '.join(LOCALES)}")
    return locale


def _get(session: Session, name: str) -> DashboardUser:
    user = session.exec(select(DashboardUser).where(col(DashboardUser.name) == name)).first()
    if user is None:
        raise UserError(f"no user {name!r}")
    return user


def add_user(
    session: Session, name: str, password: str, roles: Iterable[str], locale: str, actor: str, now: datetime
) -> UserView:
    name = name.strip()
    if not name or len(name) > 64 or not set(name) <= NAME_CHARS:
        raise UserError("a user name is 1-64 of a-z, 0-9 and . _ - @ (it is recorded with every decision)")
    chosen = _check_roles(roles)
    check_locale(locale)
    try:
        check_strength(password)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if session.exec(select(DashboardUser.id).where(col(DashboardUser.name) == name)).first() is not None:
        raise UserError(f"user {name!r} exists already")
    user = DashboardUser(
        name=name,
        password_hash=hash_password(password),
        roles=chosen,
        locale=locale,
        created_at=now,
        password_changed_at=now,
    )
    session.add(user)
    session.flush()
    record(session, "user.added", actor, now, user=name, roles=chosen, locale=locale)
    return _view(user)


def list_users(session: Session) -> list[UserView]:
    return [_view(user) for user in session.exec(select(DashboardUser).order_by(col(DashboardUser.name)))]


def _revoke_all(session: Session, user_id: int, now: datetime) -> None:
    session.execute(
        sa.update(DashboardSession)
        .where(col(DashboardSession.user_id) == user_id, col(DashboardSession.revoked_at).is_(None))
        .values(revoked_at=now)
    )


def disable_user(session: Session, name: str, actor: str, now: datetime) -> None:
    """The person is signed out everywhere at once: their sessions are revoked with the account."""
    user = _get(session, name)
    if user.disabled_at is not None:
        raise UserError(f"user {name!r} is disabled already")
    user.disabled_at = now
    session.add(user)
    assert user.id is not None
    _revoke_all(session, user.id, now)
    record(session, "user.disabled", actor, now, user=name)


def enable_user(session: Session, name: str, actor: str, now: datetime) -> None:
    user = _get(session, name)
    user.disabled_at = None
    session.add(user)
    record(session, "user.enabled", actor, now, user=name)


def set_password(session: Session, name: str, password: str, actor: str, now: datetime) -> None:
    """A new password signs out every session opened with the old one."""
    try:
        check_strength(password)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    user = _get(session, name)
    user.password_hash = hash_password(password)
    user.password_changed_at = now
    session.add(user)
    assert user.id is not None
    _revoke_all(session, user.id, now)
    record(session, "user.password_changed", actor, now, user=name)


def set_locale(session: Session, user_id: int, locale: str) -> None:
    """A preference, not a decision: not audited."""
    check_locale(locale)
    session.execute(sa.update(DashboardUser).where(col(DashboardUser.id) == user_id).values(locale=locale))


def authenticate(session: Session, name: str, password: str) -> DashboardUser | None:
    """The active user with that name and password, else None. An unknown name and a disabled user cost a
    full hash check too, so the answer's timing does not say which names exist."""
    user = session.exec(select(DashboardUser).where(col(DashboardUser.name) == name.strip())).first()
    if user is None:
        verify_password(password, DECOY_HASH)
        return None
    if not verify_password(password, user.password_hash) or user.disabled_at is not None:
        return None
    return user
