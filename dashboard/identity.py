"""Who is deciding. A typed user id until sign-in arrives with the full dashboard; pages ask `current_user()`
so that swapping in real sign-in touches only this module."""

from __future__ import annotations

import streamlit as st

USER_KEY = "user_id"


def identity_sidebar() -> None:
    """Rendered on every run by the entry point, so the id survives page switches."""
    st.sidebar.text_input(
        "Your user id",
        key=USER_KEY,
        max_chars=64,
        placeholder="e.g. j.doe",
        help="Recorded with every decision in the audit trail.",
    )
    st.sidebar.caption("Sign-in arrives with the full dashboard; until then, type the id you are accountable under.")


def current_user() -> str:
    return str(st.session_state.get(USER_KEY, "")).strip()
