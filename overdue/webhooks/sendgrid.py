"""SendGrid's webhooks: the Event Webhook (processed, delivered, deferred, bounce, dropped, spamreport,
unsubscribe, open, click) and Inbound Parse (a customer's email reply, attachments kept as evidence).

Configure in SendGrid: the signed Event Webhook at `{OVERDUE_PUBLIC_URL}/webhooks/sendgrid/events`, its
verification key in OVERDUE_SENDGRID_EVENT_PUBLIC_KEY; Inbound Parse for the reply domain at
`/webhooks/sendgrid/inbound` with a signature-verification security policy, its key in
OVERDUE_SENDGRID_PARSE_PUBLIC_KEY.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from datetime import UTC, datetime
from email.utils import parseaddr
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from overdue.channels.base import Failure
from overdue.channels.sendgrid_email import MESSAGE_ARG
from overdue.services.delivery import DeliveryReport, apply_report
from overdue.services.inbound import Attachment, Inbound, receive
from overdue.store.db import session_scope
from overdue.webhooks.context import Hooks
from overdue.webhooks.security import (
    SENDGRID_SIGNATURE,
    SENDGRID_TIMESTAMP,
    Freshness,
    event_id,
    fresh,
    receive_once,
    sendgrid_signed,
    signed_at_unix,
)

PROVIDER = "sendgrid"
logger = logging.getLogger(__name__)

EVENT_STATUS = {
    "processed": "accepted",
    "deferred": "deferred",
    "delivered": "delivered",
    "bounce": "bounced",
    "dropped": "dropped",
    "open": "opened",
    "click": "clicked",
    "spamreport": "spam_report",
    "unsubscribe": "unsubscribed",
    "group_unsubscribe": "unsubscribed",
}
DROPPED_FACTS = {
    "Bounced Address": Failure.INVALID_ADDRESS,
    "Invalid": Failure.INVALID_ADDRESS,
    "Unsubscribed Address": Failure.UNSUBSCRIBED,
    "Spam Reporting Address": Failure.UNSUBSCRIBED,
}
MESSAGE_ID_HEADER = re.compile(r"^Message-ID:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


def event_report(event: dict[str, Any]) -> tuple[str, DeliveryReport] | None:
    """The event id and our reading of one event; None for an event type we do not track."""
    status = EVENT_STATUS.get(str(event.get("event")))
    if status is None:
        return None
    fact = None
    if status in ("spam_report", "unsubscribed"):
        fact = Failure.UNSUBSCRIBED
    elif status == "bounced" and event.get("type", "bounce") == "bounce":  # "blocked" is temporary
        fact = Failure.INVALID_ADDRESS
    elif status == "dropped":
        fact = DROPPED_FACTS.get(str(event.get("reason")))
    ours = str(event.get(MESSAGE_ARG, ""))
    at = datetime.fromtimestamp(int(event["timestamp"]), UTC) if str(event.get("timestamp", "")).isdigit() else None
    sg_message_id = str(event.get("sg_message_id") or "").split(".")[0] or None
    reason = event.get("reason") or event.get("response")
    report = DeliveryReport(
        PROVIDER,
        status,
        at or datetime.now(UTC),
        sg_message_id,
        int(ours) if ours.isdigit() else None,
        str(reason)[:200] if reason else None,
        fact,
    )
    identity = str(event.get("sg_event_id") or hashlib.sha256(json.dumps(event, sort_keys=True).encode()).hexdigest())
    return event_id(identity), report


def router(hooks: Hooks) -> APIRouter:
    routes = APIRouter(prefix="/webhooks/sendgrid")
    settings = hooks.runtime.settings

    async def verified_body(request: Request, public_key: str | None) -> bytes:
        body = await request.body()
        timestamp = request.headers.get(SENDGRID_TIMESTAMP)
        if not sendgrid_signed(public_key, timestamp, body, request.headers.get(SENDGRID_SIGNATURE)):
            raise HTTPException(403, "signature does not match")
        if not fresh(signed_at_unix(timestamp), hooks.now(), hooks.max_age):
            raise HTTPException(403, "stale request")
        return body

    @routes.post("/events")
    async def events(request: Request) -> Response:
        body = await verified_body(request, settings.sendgrid_event_public_key)
        try:
            posted = json.loads(body)
        except ValueError:
            raise HTTPException(400, "not JSON") from None
        if not isinstance(posted, list):
            raise HTTPException(400, "expected a list of events")
        reports = [read for read in (event_report(e) for e in posted if isinstance(e, dict)) if read is not None]
        now = hooks.now()

        def apply() -> Freshness:
            with session_scope(hooks.runtime.database_url) as session:
                verdict, new = receive_once(session, PROVIDER, [event for event, _ in reports], now, hooks.max_age)
                applied = sum(apply_report(session, report, now) for event, report in reports if event in new)
                logger.info("SendGrid events: %d new of %d, %d about our messages", len(new), len(reports), applied)
                return verdict

        hooks.refuse_replay(await run_in_threadpool(apply) if reports else Freshness.NEW)
        return Response(status_code=204)

    @routes.post("/inbound")
    async def inbound_email(request: Request) -> Response:
        body = await verified_body(request, settings.sendgrid_parse_public_key)
        form = await request.form()
        inbound = await _inbound(form, body)
        now = hooks.now()

        def keep() -> Freshness:
            with session_scope(hooks.runtime.database_url) as session:
                verdict, new = receive_once(session, PROVIDER, [inbound.provider_id], now, hooks.max_age)
                if new:
                    received = receive(session, hooks.runtime, inbound, now)
                    logger.info("Email reply %s read as %s", received.inbound_id, received.intent)
                return verdict

        hooks.refuse_replay(await run_in_threadpool(keep))
        return Response(status_code=204)

    return routes


async def _inbound(form: FormData, body: bytes) -> Inbound:
    """Inbound Parse's fields: from, subject, text (html when there is no text), headers, attachmentN files."""
    _, sender = parseaddr(str(form.get("from") or ""))
    if not sender:
        raise HTTPException(400, "no sender")
    headers = str(form.get("headers") or "")
    found = MESSAGE_ID_HEADER.search(headers)
    message_id = found.group(1) if found else "sha256:" + hashlib.sha256(body).hexdigest()
    text = str(form.get("text") or "") or _plain(str(form.get("html") or ""))
    attachments = []
    for key, value in form.multi_items():
        if key.startswith("attachment") and isinstance(value, UploadFile):
            attachments.append(
                Attachment(value.filename or key, value.content_type or "application/octet-stream", await value.read())
            )
    return Inbound(
        channel="email",
        provider=PROVIDER,
        provider_id=event_id(message_id),
        from_address=sender,
        body=text,
        subject=str(form.get("subject") or "") or None,
        attachments=tuple(attachments),
    )


def _plain(html: str) -> str:
    """Enough of an HTML-only email's text to read it: tags out, entities as they are."""
    return re.sub(r"\s+\n", "\n", re.sub(r"<[^>]+>", "\n", html)).strip()
