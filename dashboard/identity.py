"""Who is signed in, with which roles and in which language. Pages ask `current_user()` and `current_roles()`.

The entry point calls `authenticate()` once at the top of every script run: the person comes from this
browser session's sign-in, from the signed `overdue_session` cookie the browser sent when it connected (a
reload), or from a trusted proxy's header when OVERDUE_TRUSTED_USER_HEADER is set; every run checks the
session against the database, so a sign-out elsewhere or a disabled account takes effect on the next click.
How the cookie is set and why: README, "Dashboard sign-in".
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

import streamlit as st

from dashboard.queries import database_url
from overdue.domain import session_tokens
from overdue.services import sessions
from overdue.services import signin_throttle as throttle
from overdue.services.sessions import SignedIn
from overdue.services.users import LOCALES, set_locale
from overdue.services.users import authenticate as check_password
from overdue.settings import get_settings
from overdue.store.db import session_scope

COOKIE = "overdue_session"
SIGNED_IN = "_signed_in"  # SignedIn of this run; server-side session state, never sent to the browser
HANDOFF = "_cookie_handoff"  # a one-minute ticket the browser trades for the session cookie
LOCALE = "_locale"  # the language chosen before signing in
ROLES = frozenset({"agent", "supervisor", "legal", "manager", "engineer", "admin"})
# Set by dashboard/server.py, which serves the /auth routes; without them (AppTest, a bare `streamlit run
# dashboard/app.py`) a sign-in lasts as long as the browser session.
cookie_routes = {"mounted": False}


def signing_key() -> bytes:
    return sessions.session_key(get_settings(), database_url())


def authenticate() -> SignedIn | None:
    """Resolve the person for this run (see the module docstring) and remember them for the run's pages."""
    person = _resolve(allow_cookie=True)
    if person is None:
        st.session_state.pop(SIGNED_IN, None)
    else:
        st.session_state[SIGNED_IN] = person
    return person


def _resolve(*, allow_cookie: bool) -> SignedIn | None:
    settings = get_settings()
    now = datetime.now(UTC)
    known: SignedIn | None = st.session_state.get(SIGNED_IN)
    with session_scope(database_url()) as session:
        if settings.trusted_user_header:
            name = st.context.headers.get(settings.trusted_user_header, "")
            return sessions.resolve_name(session, name) if name else None
        if known is not None and known.session_id and (person := sessions.resolve(session, known.session_id, now)):
            return person
        if allow_cookie and (token := st.context.cookies.get(COOKIE)):
            max_age = int(settings.session_hours * 3600)
            session_id = session_tokens.unsign(signing_key(), session_tokens.SESSION, token, int(time.time()), max_age)
            return sessions.resolve(session, session_id, now) if session_id else None
    return None


def current() -> SignedIn | None:
    """The person as this run's start found them: for what a page shows (names, language, which pages)."""
    return st.session_state.get(SIGNED_IN)


def _verified() -> SignedIn | None:
    """Checked against the database now: a click's callback runs before the run's `authenticate()`, and a
    session revoked since the page was drawn (signed out in another tab, the user disabled) must not act."""
    if current() is None:
        return None
    person = _resolve(allow_cookie=False)
    if person is None:
        st.session_state.pop(SIGNED_IN, None)
    return person


def current_user() -> str:
    """The signed-in person's name, to record with a decision; "" when nobody is (or is any longer) signed in."""
    person = _verified()
    return person.name if person else ""


def current_roles() -> frozenset[str]:
    """The signed-in person's roles, checked against the database now (see `current_user`)."""
    person = _verified()
    return person.roles if person else frozenset()


def current_locale() -> str:
    person = current()
    if person is not None:
        return person.locale
    chosen = st.session_state.get(LOCALE)
    if chosen in LOCALES:
        return str(chosen)
    browser = st.context.locale or ""
    return "zh-CN" if browser.lower().startswith("zh") else "en-US"


def current_time_zone() -> str:
    return st.context.timezone or "UTC"


@dataclass(frozen=True, slots=True)
class LockedOut:
    """Too many failed sign-ins for this name or from this client: nothing is checked until `until`."""

    until: datetime


def client_address() -> str:
    """The browser's address as the server sees it ('' when Streamlit does not know it, as in AppTest); behind
    a proxy it is the proxy's, which is why the per-client limit is higher than the per-name one."""
    address = st.context.ip_address
    return address if isinstance(address, str) else ""


def sign_in(name: str, password: str) -> SignedIn | LockedOut | None:
    """Check the password, unless failed sign-ins locked the name or this client out; on success open a session
    for this browser session and, when the /auth routes are served, a ticket the browser trades for the cookie
    that survives a reload."""
    now = datetime.now(UTC)
    rules, client = throttle.policy(get_settings()), client_address()
    with session_scope(database_url()) as session:
        if until := throttle.refused_until(session, name, client, rules, now):
            return LockedOut(until)
        user = check_password(session, name, password)
        if user is None:
            until = throttle.record_failure(session, name, client, rules, now)
            return LockedOut(until) if until else None
        session_id = sessions.open_session(session, user, now, get_settings().session_hours)
        person = sessions.resolve(session, session_id, now)
    st.session_state[SIGNED_IN] = person
    if cookie_routes["mounted"]:
        st.session_state[HANDOFF] = session_tokens.sign(
            signing_key(), session_tokens.HANDOFF, session_id, int(time.time())
        )
    return person


def sign_out() -> None:
    """Revoked on the server first: the cookie left in the browser opens nothing any more."""
    person = current()
    if person is not None:
        with session_scope(database_url()) as session:
            sessions.close_session(session, person, datetime.now(UTC))
        st.session_state[LOCALE] = person.locale  # the sign-in page goes on in the person's language
    st.session_state.pop(SIGNED_IN, None)
    st.session_state.pop(HANDOFF, None)


def choose_locale(locale: str) -> None:
    """The language for every screen: the signed-in person's stored preference, or this session's choice."""
    person = current()
    if person is None:
        st.session_state[LOCALE] = locale
        return
    with session_scope(database_url()) as session:
        set_locale(session, person.user_id, locale)
    st.session_state[SIGNED_IN] = SignedIn(person.user_id, person.name, person.roles, locale, person.session_id)
