"""The webhooks service (`overdue webhooks serve`): one FastAPI app for every provider callback and the
unsubscribe link. It holds no state of its own: every request is one transaction on the database."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse, Response

from overdue.runtime import Runtime
from overdue.store.db import session_scope
from overdue.store.tables import WebhookError
from overdue.webhooks import sendgrid, twilio, unsubscribe
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

    async def refused(request: Request, exc: Exception) -> Response:
        """Every refusal and failure is kept (path, status, why) for the engineers' page, then answered."""
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        detail = str(exc.detail) if isinstance(exc, HTTPException) else type(exc).__name__
        await run_in_threadpool(_record_error, runtime.database_url, clock(), request.url.path, status, detail)
        if isinstance(exc, HTTPException):
            return await http_exception_handler(request, exc)
        logger.exception("webhook %s failed", request.url.path, exc_info=exc)
        return PlainTextResponse("Internal Server Error", status_code=500)

    app.add_exception_handler(HTTPException, refused)
    app.add_exception_handler(Exception, refused)

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
    }
    return [f"{what} is not set: the endpoint refuses every request" for what, value in missing.items() if not value]


def _record_error(database_url: str, at: datetime, path: str, status: int, detail: str) -> None:
    with session_scope(database_url) as session:
        session.add(WebhookError(received_at=at, path=path[:200], status=status, detail=detail[:300]))
