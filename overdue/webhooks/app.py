"""The webhooks service (`overdue webhooks serve`): one FastAPI app for every provider callback and the
unsubscribe link. It holds no state of its own: every request is one transaction on the database."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from fastapi import FastAPI

from overdue.runtime import Runtime
from overdue.webhooks import payments, sendgrid, twilio, unsubscribe
from overdue.webhooks.context import Hooks

logger = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


def create_app(runtime: Runtime, clock: Callable[[], datetime] = utcnow) -> FastAPI:
    hooks = Hooks(runtime, clock)
    app = FastAPI(title="overdue webhooks", docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(twilio.router(hooks))
    app.include_router(sendgrid.router(hooks))
    app.include_router(unsubscribe.router(hooks))
    app.include_router(payments.router(hooks))

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    for problem in unverifiable(runtime):
        logger.warning("%s", problem)
    return app


def unverifiable(runtime: Runtime) -> list[str]:
    """The endpoints that will refuse every request, because what verifies them is not configured."""
    settings = runtime.settings
    missing = {
        "/webhooks/twilio/*: TWILIO_AUTH_TOKEN": settings.twilio_auth_token,
        "/webhooks/sendgrid/events: OVERDUE_SENDGRID_EVENT_PUBLIC_KEY": settings.sendgrid_event_public_key,
        "/webhooks/sendgrid/inbound: OVERDUE_SENDGRID_PARSE_PUBLIC_KEY": settings.sendgrid_parse_public_key,
        "/unsubscribe/*: OVERDUE_UNSUBSCRIBE_SECRET": settings.unsubscribe_secret,
        "/webhooks/payments: OVERDUE_PAYMENT_WEBHOOK_SECRET": settings.payment_webhook_secret,
    }
    return [f"{what} is not set: the endpoint refuses every request" for what, value in missing.items() if not value]
