"""The sign-in page, and the sidebar panel that says who is signed in, switches language and signs out.

A sign-in is checked here, in the Streamlit session, so it works wherever the script runs (AppTest too).
What makes it survive a reload is the cookie: when dashboard/server.py serves the /auth routes, the page
sends the browser once to /auth/session with a one-minute, single-use ticket, and that route sets the signed
HttpOnly cookie and sends it back. Signing out revokes the session on the server, then /auth/signout clears
the cookie.
"""

from __future__ import annotations

import json
import logging
import math
from datetime import UTC, datetime

import streamlit as st

from dashboard import identity
from dashboard.i18n import t
from overdue.services.sessions import SignedIn
from overdue.services.users import LOCALES
from overdue.settings import get_settings

NAME, PASSWORD, FAILED = "signin_name", "signin_password", "_signin_failed"
LANGUAGE = "language"
SIGNED_OUT = "_signed_out"
LANGUAGE_NAMES = {"en-US": "English", "zh-CN": "中文"}
logger = logging.getLogger(__name__)


def render() -> None:
    """The only page before sign-in."""
    st.title(t("signin.title"))
    _language_choice(st)
    if st.session_state.pop(SIGNED_OUT, False):
        st.success(t("signin.signed_out"), icon=":material/logout:")
        _go(st, "/auth/signout")
    if header := get_settings().trusted_user_header:
        st.warning(t("signin.proxy_only", header=header), icon=":material/lock:")
        return
    refused = st.session_state.get(FAILED)
    if isinstance(refused, identity.LockedOut):
        st.error(t("signin.locked", minutes=minutes_left(refused.until, datetime.now(UTC))), icon=":material/timer:")
    elif refused:
        st.error(t("signin.failed"), icon=":material/lock:")
    with st.form("signin", enter_to_submit=True):
        st.text_input(t("signin.name"), key=NAME, max_chars=64, autocomplete="username")
        st.text_input(
            t("signin.password"), key=PASSWORD, type="password", max_chars=256, autocomplete="current-password"
        )
        st.form_submit_button(t("signin.submit"), type="primary", on_click=_submit)
    st.caption(t("signin.help"))


def _submit() -> None:
    name = str(st.session_state.get(NAME, ""))
    password = str(st.session_state.get(PASSWORD, ""))
    st.session_state[PASSWORD] = ""  # the password does not outlive the click
    outcome = identity.sign_in(name, password) if name.strip() and password else None
    if isinstance(outcome, SignedIn):
        st.session_state[FAILED] = False
        return
    st.session_state[FAILED] = outcome or True
    why = "locked out" if outcome else "refused"
    logger.warning("Dashboard sign-in %s for a user name of %d characters", why, len(name))


def minutes_left(until: datetime, now: datetime) -> int:
    """Whole minutes, rounded up: "try again in 0 minutes" would be a lie."""
    return max(1, math.ceil((until - now).total_seconds() / 60))


def sidebar() -> None:
    """Drawn on every run once someone is signed in."""
    person = identity.current()
    assert person is not None
    panel = st.sidebar
    panel.markdown(t("signin.signed_in_as", name=person.name))
    panel.caption(t("access.separator").join(t(f"roles.{role}") for role in sorted(person.roles)))
    _language_choice(panel)
    panel.button(t("signin.sign_out"), key="sign_out", icon=":material/logout:", on_click=_sign_out)


def hand_off() -> None:
    """After a sign-in, once a page has run to its end: send the browser for the session cookie. Not earlier:
    a run cut short (the first page switching to the person's own) would drop the script with it."""
    if ticket := st.session_state.pop(identity.HANDOFF, None):
        _go(st, "/auth/session?ticket=" + ticket, keep_path=True)


def _sign_out() -> None:
    identity.sign_out()
    st.session_state[SIGNED_OUT] = True


def _language_choice(where: object) -> None:
    current = identity.current_locale()
    where.selectbox(  # type: ignore[attr-defined]
        t("signin.language"),
        LOCALES,
        index=LOCALES.index(current),
        key=LANGUAGE,
        format_func=LANGUAGE_NAMES.__getitem__,
        on_change=_choose_language,
    )


def _choose_language() -> None:
    identity.choose_locale(str(st.session_state[LANGUAGE]))


def _go(where: object, url: str, *, keep_path: bool = False) -> None:
    """Send the browser to one of our /auth routes (only when they are served: see dashboard/server.py)."""
    if not identity.cookie_routes["mounted"]:
        return
    target = json.dumps(url)
    then = " + '&next=' + encodeURIComponent(window.location.pathname + window.location.search)" if keep_path else ""
    st.html(f"<script>window.location.replace({target}{then});</script>", unsafe_allow_javascript=True)
