"""The dashboard as served: `streamlit run dashboard/server.py` (what `overdue dashboard` runs).

Streamlit itself cannot set an HttpOnly cookie, so this ASGI app (st.App) adds two routes beside the
Streamlit ones, on the same origin:

- `GET /auth/session?ticket=...&next=/page` trades a sign-in's one-minute, single-use ticket for the session
  cookie (HttpOnly, SameSite=Strict, Secure over HTTPS, signed with OVERDUE_SESSION_SECRET) and sends the
  browser back to the page. The Streamlit script reads it back from `st.context.cookies` on every connection.
- `GET /auth/signout` clears the cookie (the session itself was revoked on the server by the sign-out).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import streamlit as st
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from dashboard import identity
from dashboard.queries import database_url
from overdue.domain import session_tokens
from overdue.services.sessions import HANDOFF_SECONDS, claim_handoff
from overdue.settings import get_settings
from overdue.store.db import session_scope

APP = Path(__file__).resolve().parent / "app.py"


def _safe_next(value: str | None) -> str:
    """Only a path on this site: never `//elsewhere` or a full URL (an open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def _cookie_secure(request: Request) -> bool:
    return request.url.scheme == "https"


async def session_cookie(request: Request) -> Response:
    ticket = request.query_params.get("ticket", "")
    key = identity.signing_key()
    now = int(time.time())
    session_id = session_tokens.unsign(key, session_tokens.HANDOFF, ticket, now, HANDOFF_SECONDS)
    response = RedirectResponse(_safe_next(request.query_params.get("next")), status_code=303)
    if session_id is None:
        return response
    with session_scope(database_url()) as session:
        if not claim_handoff(session, session_id, datetime.now(UTC)):
            return response
    response.set_cookie(
        identity.COOKIE,
        session_tokens.sign(key, session_tokens.SESSION, session_id, now),
        max_age=int(get_settings().session_hours * 3600),
        path="/",
        httponly=True,
        secure=_cookie_secure(request),
        samesite="strict",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


async def sign_out(request: Request) -> Response:
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(identity.COOKIE, path="/", httponly=True, secure=_cookie_secure(request), samesite="strict")
    return response


identity.cookie_routes["mounted"] = True
app = st.App(
    APP,
    routes=[Route("/auth/session", session_cookie, methods=["GET"]), Route("/auth/signout", sign_out, methods=["GET"])],
)
