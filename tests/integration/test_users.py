"""Dashboard users and sessions on SQLite and PostgreSQL, and `overdue users ...` as an admin runs it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import col, select
from typer.testing import CliRunner, Result

from overdue.cli import app
from overdue.domain.signin_throttle import ThrottlePolicy
from overdue.services import sessions
from overdue.services import signin_throttle as throttle
from overdue.services.users import UserError, add_user, authenticate, disable_user, set_locale, set_password
from overdue.store.db import session_scope
from overdue.store.tables import AuditEvent, DashboardUser, SignInFailure

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"


def invoke(*args: str, password: str = PASSWORD) -> Result:
    return CliRunner().invoke(app, list(args), input=password + "\n", env={"COLUMNS": "1000"})


def test_a_session_lives_until_sign_out_expiry_disable_or_new_password(database_url: str) -> None:
    with session_scope(database_url) as session:
        add_user(session, "lee", PASSWORD, ["legal", "agent"], "zh-CN", "admin", NOW)
        assert authenticate(session, "lee", "wrong password") is None
        assert authenticate(session, "nobody", PASSWORD) is None
        user = authenticate(session, " lee ", PASSWORD)
        assert user is not None
        first = sessions.open_session(session, user, NOW, hours=12)
        second = sessions.open_session(session, user, NOW, hours=12)
    with session_scope(database_url) as session:
        person = sessions.resolve(session, first, NOW)
        assert person is not None
        assert (person.name, person.roles, person.locale) == ("lee", frozenset({"legal", "agent"}), "zh-CN")
        assert sessions.resolve(session, first, NOW + timedelta(hours=12)) is None  # expired
        assert sessions.resolve(session, "not-a-session", NOW) is None
        assert sessions.claim_handoff(session, first, NOW)
        assert not sessions.claim_handoff(session, first, NOW), "a hand-off ticket is good once"
        sessions.close_session(session, person, NOW)
    with session_scope(database_url) as session:
        assert sessions.resolve(session, first, NOW) is None
        assert sessions.resolve(session, second, NOW) is not None
        set_password(session, "lee", "another long password", "admin", NOW)
    with session_scope(database_url) as session:
        assert sessions.resolve(session, second, NOW) is None, "a new password ends the old sessions"
        assert authenticate(session, "lee", PASSWORD) is None
        user = authenticate(session, "lee", "another long password")
        assert user is not None
        third = sessions.open_session(session, user, NOW, hours=12)
        disable_user(session, "lee", "admin", NOW)
    with session_scope(database_url) as session:
        assert sessions.resolve(session, third, NOW) is None
        assert authenticate(session, "lee", "another long password") is None
        assert sessions.resolve_name(session, "lee") is None
        kinds = session.scalars(sa.select(col(AuditEvent.kind)).order_by(col(AuditEvent.id))).all()
    assert kinds == [
        "user.added",
        "user.signed_in",
        "user.signed_in",
        "user.signed_out",
        "user.password_changed",
        "user.signed_in",
        "user.disabled",
    ]


@pytest.mark.parametrize(
    ("name", "roles", "locale", "password", "message"),
    [
        ("Lee Smith", ["agent"], "en-US", PASSWORD, "a user name is 1-64 of"),
        ("lee", [], "en-US", PASSWORD, "give at least one role"),
        ("lee", ["boss"], "en-US", PASSWORD, "unknown role boss"),
        ("lee", ["agent"], "fr-FR", PASSWORD, "unknown language 'fr-FR'"),
        ("lee", ["agent"], "en-US", "short", "at least 10 characters"),
    ],
)
def test_bad_users_are_refused(
    sqlite_url: str, name: str, roles: list[str], locale: str, password: str, message: str
) -> None:
    with session_scope(sqlite_url) as session, pytest.raises(UserError, match=message):
        add_user(session, name, password, roles, locale, "admin", NOW)


def test_language_preference_is_kept(sqlite_url: str) -> None:
    with session_scope(sqlite_url) as session:
        user = add_user(session, "mia", PASSWORD, ["manager"], "en-US", "admin", NOW)
        set_locale(session, user.id, "zh-CN")
    with session_scope(sqlite_url) as session:
        assert sessions.resolve_name(session, "mia") is not None
        assert session.exec(select(DashboardUser.locale)).one() == "zh-CN"


def test_users_from_the_command_line(sqlite_url: str) -> None:
    url = ("--database-url", sqlite_url)
    added = invoke("users", "add", "ann", "--role", "agent", "--role", "supervisor", "--locale", "zh-CN", *url)
    assert added.exit_code == 0, added.output
    assert "User ann added: agent, supervisor, zh-CN." in added.output
    assert PASSWORD not in added.output
    again = invoke("users", "add", "ann", "--role", "agent", *url)
    assert again.exit_code == 1
    assert "user 'ann' exists already" in again.output
    assert invoke("users", "passwd", "ann", *url, password="a brand new password").exit_code == 0
    assert invoke("users", "disable", "ann", *url).exit_code == 0
    listed = invoke("users", "list", *url)
    assert "ann" in listed.output
    assert "agent, supervisor" in listed.output
    assert "disabled" in listed.output
    with session_scope(sqlite_url) as session:
        stored = session.exec(select(DashboardUser)).one()
        assert stored.password_hash.startswith("scrypt$")
        assert authenticate(session, "ann", "a brand new password") is None  # disabled
    assert invoke("users", "enable", "ann", *url).exit_code == 0
    with session_scope(sqlite_url) as session:
        assert authenticate(session, "ann", "a brand new password") is not None


RULES = ThrottlePolicy(
    max_failures=3, max_failures_per_client=4, window=timedelta(minutes=15), lockout=timedelta(minutes=10)
)


def test_failed_sign_ins_lock_a_name_and_a_client_out_until_unlocked(database_url: str) -> None:
    """Counted in the database: each `session_scope` here could be another dashboard process."""
    for minute in range(2):
        with session_scope(database_url) as session:
            at = NOW + timedelta(minutes=minute)
            assert throttle.record_failure(session, "lee", "10.0.0.1", RULES, at) is None
    with session_scope(database_url) as session:
        assert throttle.refused_until(session, "lee", "", RULES, NOW) is None
        until = throttle.record_failure(session, " lee ", "10.0.0.2", RULES, NOW + timedelta(minutes=2))
    assert until == NOW + timedelta(minutes=12)
    with session_scope(database_url) as session:
        assert throttle.refused_until(session, "lee", "", RULES, NOW + timedelta(minutes=11)) == until
        assert throttle.refused_until(session, "lee", "", RULES, until) is None, "the lock ends on time"
        assert throttle.refused_until(session, "mia", "10.0.0.3", RULES, NOW + timedelta(minutes=3)) is None
        # another name from the first client: its fourth failure locks the client, whatever name comes next
        client_until = throttle.record_failure(session, "mia", "10.0.0.1", RULES, NOW + timedelta(minutes=3))
        assert client_until is None
        client_until = throttle.record_failure(session, "ann", "10.0.0.1", RULES, NOW + timedelta(minutes=4))
        assert client_until == NOW + timedelta(minutes=14)
        assert throttle.refused_until(session, "bob", "10.0.0.1", RULES, NOW + timedelta(minutes=5)) == client_until
    with session_scope(database_url) as session:
        assert throttle.unlock(session, "lee", "admin", NOW + timedelta(minutes=5)) == 3
    with session_scope(database_url) as session:
        assert throttle.refused_until(session, "lee", "", RULES, NOW + timedelta(minutes=5)) is None
        assert throttle.refused_until(session, "bob", "10.0.0.1", RULES, NOW + timedelta(minutes=5)) is None, (
            "lee's failures no longer count against the client either"
        )
        throttle.record_failure(session, "zoe", "", RULES, NOW + timedelta(hours=1))
        assert session.scalars(sa.select(col(SignInFailure.name))).all() == ["zoe"], "old failures are pruned"
        kinds = session.scalars(sa.select(col(AuditEvent.kind)).order_by(col(AuditEvent.id))).all()
    assert kinds.count("user.signin_failed") == 6
    assert kinds.count("user.signin_locked") == 2
    assert kinds.count("user.unlocked") == 1


def test_unlock_from_the_command_line(sqlite_url: str) -> None:
    with session_scope(sqlite_url) as session:
        for minute in range(3):
            throttle.record_failure(session, "ann", "", RULES, datetime.now(UTC) - timedelta(minutes=minute))
    unlocked = invoke("users", "unlock", "ann", "--as", "admin.ada", "--database-url", sqlite_url)
    assert unlocked.exit_code == 0, unlocked.output
    assert "3 failed sign-in(s) of ann forgotten" in unlocked.output
    with session_scope(sqlite_url) as session:
        event = session.scalars(sa.select(AuditEvent).where(col(AuditEvent.kind) == "user.unlocked")).one()
        assert event.actor == "admin.ada"
