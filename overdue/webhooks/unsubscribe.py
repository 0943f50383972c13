"""The unsubscribe link of every email: a page with one button (GET), and the opt-out itself (POST), which is
also what a mail client's one-click unsubscribe sends (RFC 8058). Idempotent: a second click changes nothing."""

from __future__ import annotations

import html

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from overdue.channels.unsubscribe import PATH, message_of
from overdue.services.contact_preferences import opt_out_address
from overdue.store.db import session_scope
from overdue.store.tables import OutreachMessage
from overdue.webhooks.context import Hooks

PAGES = {
    "en-US": {
        "ask": "Stop receiving these emails?",
        "button": "Unsubscribe",
        "done": "You are unsubscribed: we will send you no more emails. You can still reach us by phone.",
    },
    "zh-CN": {
        "ask": "不再接收此类邮件？",
        "button": "退订",
        "done": "您已退订，我们将不再向您发送邮件。如有需要，仍可致电联系我们。",
    },
}


def _page(locale: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f'<!DOCTYPE html><html lang="{html.escape(locale, quote=True)}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width"><title>{html.escape(PAGES[locale]["button"])}</title>'
        f"</head><body>{body}</body></html>"
    )


def router(hooks: Hooks) -> APIRouter:
    routes = APIRouter()
    secret = hooks.runtime.settings.unsubscribe_secret

    def message(token: str) -> OutreachMessage:
        message_id = message_of(token, secret) if secret is not None else None
        if message_id is None:
            raise HTTPException(404, "no such link")
        with session_scope(hooks.runtime.database_url) as session:
            found = session.get(OutreachMessage, message_id)
        if found is None or found.channel != "email":
            raise HTTPException(404, "no such link")
        return found

    @routes.get(PATH + "{token}")
    async def ask(token: str) -> HTMLResponse:
        found = await run_in_threadpool(message, token)
        text = PAGES.get(found.locale, PAGES["en-US"])
        return _page(
            found.locale if found.locale in PAGES else "en-US",
            f'<form method="post"><p>{html.escape(text["ask"])}</p>'
            f'<button type="submit">{html.escape(text["button"])}</button></form>',
        )

    @routes.post(PATH + "{token}")
    async def unsubscribe(token: str) -> HTMLResponse:
        found = await run_in_threadpool(message, token)
        now = hooks.now()

        def opt_out() -> None:
            with session_scope(hooks.runtime.database_url) as session:
                opt_out_address(session, "email", found.address, "unsubscribe link", "customer:email", now)

        await run_in_threadpool(opt_out)
        locale = found.locale if found.locale in PAGES else "en-US"
        return _page(locale, f"<p>{html.escape(PAGES[locale]['done'])}</p>")

    return routes
