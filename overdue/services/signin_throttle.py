"""Failed dashboard sign-ins, counted in the database per user name and per client address, and the locks
they cause (the rule: overdue/domain/signin_throttle.py). Several dashboard processes share the count, and a
restart forgets nothing. Failures, locks and unlocks are audited (`user.signin_failed`, `user.signin_locked`,
`user.unlocked`); the name is recorded as typed, whether or not such a user exists.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col

from overdue.domain.signin_throttle import ThrottlePolicy, locked_until
from overdue.services.audit import record
from overdue.settings import Settings
from overdue.store.tables import SignInFailure

NAME_CHARS = 64  # the sign-in form's limit; longer input is cut rather than refused
CLIENT_CHARS = 64


def policy(settings: Settings) -> ThrottlePolicy:
    return ThrottlePolicy(
        max_failures=settings.signin_max_failures,
        max_failures_per_client=settings.signin_max_failures_per_client,
        window=timedelta(minutes=settings.signin_window_minutes),
        lockout=timedelta(minutes=settings.signin_lockout_minutes),
    )


def refused_until(session: Session, name: str, client: str, rules: ThrottlePolicy, now: datetime) -> datetime | None:
    """When a lock on this name or this client ends, if one is in force: then no password is checked."""
    key, client = _key(name), client[:CLIENT_CHARS]
    by_name = _failures(session, col(SignInFailure.name) == key, rules, now)
    ends = [locked_until(by_name, rules.max_failures, rules, now)]
    if client:
        by_client = _failures(session, col(SignInFailure.client) == client, rules, now)
        ends.append(locked_until(by_client, rules.max_failures_per_client, rules, now))
    return max((end for end in ends if end is not None), default=None)


def record_failure(session: Session, name: str, client: str, rules: ThrottlePolicy, now: datetime) -> datetime | None:
    """Count a failed sign-in; returns when the lock it starts ends, if it starts one. Failures too old to
    matter to any lock are deleted on the way."""
    key, client = _key(name), client[:CLIENT_CHARS]
    session.execute(sa.delete(SignInFailure).where(col(SignInFailure.at) < now - rules.lookback))
    session.add(SignInFailure(name=key, client=client, at=now))
    session.flush()
    record(session, "user.signin_failed", "dashboard", now, user=key, client=client)
    until = refused_until(session, key, client, rules, now)
    if until is not None:
        record(session, "user.signin_locked", "dashboard", now, user=key, client=client, until=until.isoformat())
    return until


def unlock(session: Session, name: str, actor: str, now: datetime) -> int:
    """Forget a name's failures, which ends its lock (and takes them out of their clients' counts too)."""
    key = _key(name)
    result = session.execute(sa.delete(SignInFailure).where(col(SignInFailure.name) == key))
    cleared = int(result.rowcount or 0)  # type: ignore[attr-defined]
    record(session, "user.unlocked", actor, now, user=key, failures_cleared=cleared)
    return cleared


def _key(name: str) -> str:
    return name.strip()[:NAME_CHARS]


def _failures(session: Session, which: sa.ColumnElement[bool], rules: ThrottlePolicy, now: datetime) -> list[datetime]:
    since = now - rules.lookback
    times = session.scalars(sa.select(col(SignInFailure.at)).where(which, col(SignInFailure.at) >= since))
    return [at for at in times if at is not None]
