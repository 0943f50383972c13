"""Twilio's webhooks: status callbacks of messages and calls, and customers' texts.

Configure in Twilio: the messaging number's (or service's) incoming-message webhook
`{OVERDUE_PUBLIC_URL}/webhooks/twilio/sms` (POST); status callbacks need no setup, every send names
`/webhooks/twilio/status?message=ID`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from fastapi import APIRouter, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from twilio.twiml.messaging_response import MessagingResponse

from overdue.channels.base import Failure
from overdue.services.delivery import DeliveryReport, apply_report
from overdue.services.inbound import Inbound, receive
from overdue.store.db import session_scope
from overdue.webhooks.context import Hooks
from overdue.webhooks.security import (
    TWILIO_SIGNATURE,
    TWILIO_SIGNATURE_SETTINGS,
    Freshness,
    fresh,
    receive_once,
    signed_at_rfc2822,
    twilio_signed,
)

PROVIDER = "twilio"
logger = logging.getLogger(__name__)

MESSAGE_STATUS = {
    "accepted": "accepted",
    "scheduled": "accepted",
    "queued": "accepted",
    "sending": "accepted",
    "sent": "sent",
    "delivered": "delivered",
    "undelivered": "undelivered",
    "failed": "failed",
    "read": "opened",
}
CALL_STATUS = {
    "queued": "accepted",
    "initiated": "accepted",
    "ringing": "sent",
    "in-progress": "delivered",
    "answered": "delivered",
    "completed": "delivered",  # answered, by a person or a voicemail: the script is limited-content either way
    "busy": "undelivered",
    "no-answer": "undelivered",
    "canceled": "undelivered",
    "failed": "failed",
}
# Delivery error codes that are facts about the number (https://www.twilio.com/docs/api/errors).
ADDRESS_FACTS = {
    30005: Failure.INVALID_ADDRESS,  # unknown destination handset
    30006: Failure.INVALID_ADDRESS,  # landline or unreachable carrier
    21211: Failure.INVALID_ADDRESS,
    21614: Failure.INVALID_ADDRESS,
    21610: Failure.UNSUBSCRIBED,
}


def status_report(form: Mapping[str, str], message_id: int | None, at: datetime) -> tuple[str, DeliveryReport] | None:
    """The event id and our reading of a status callback; None when it is about neither a message nor a call."""
    if form.get("MessageSid"):
        sid, raw, table = form["MessageSid"], form.get("MessageStatus", ""), MESSAGE_STATUS
    elif form.get("CallSid"):
        sid, raw, table = form["CallSid"], form.get("CallStatus", ""), CALL_STATUS
    else:
        return None
    status = table.get(raw)
    if status is None:
        return None
    code = form.get("ErrorCode") or ""
    fact = ADDRESS_FACTS.get(int(code)) if code.isdigit() else None
    report = DeliveryReport(PROVIDER, status, at, sid, message_id, f"error {code}" if code else None, fact)
    return f"{sid}:{raw}", report


def router(hooks: Hooks) -> APIRouter:
    routes = APIRouter(prefix="/webhooks/twilio")

    async def verified_form(request: Request) -> FormData:
        form = await request.form()
        url = hooks.public_url_of(request)
        headers = request.headers
        token = hooks.runtime.settings.twilio_auth_token
        if not twilio_signed(token, url, form, headers.get(TWILIO_SIGNATURE), headers.get(TWILIO_SIGNATURE_SETTINGS)):
            raise HTTPException(403, "signature does not match")
        return form

    @routes.post("/status")
    async def status(request: Request, message: int | None = None) -> Response:
        form = await verified_form(request)
        now = hooks.now()
        if "Timestamp" in form and not fresh(signed_at_rfc2822(str(form["Timestamp"])), now, hooks.max_age):
            raise HTTPException(403, "stale request")
        fields = {key: str(value) for key, value in form.items()}
        read = status_report(fields, message, now)
        if read is None:
            return Response(status_code=204)
        event, report = read

        def apply() -> Freshness:
            with session_scope(hooks.runtime.database_url) as session:
                verdict, new = receive_once(session, PROVIDER, [event], now, hooks.max_age)
                if new:
                    known = apply_report(session, report, now)
                    logger.info("Twilio %s report for %s message", report.status, "our" if known else "an unknown")
                return verdict

        hooks.refuse_replay(await run_in_threadpool(apply))
        return Response(status_code=204)

    @routes.post("/sms")
    async def incoming_text(request: Request) -> Response:
        form = await verified_form(request)
        now = hooks.now()
        inbound = Inbound(
            channel="sms",
            provider=PROVIDER,
            provider_id=str(form.get("MessageSid") or ""),
            from_address=str(form.get("From") or ""),
            body=str(form.get("Body") or ""),
        )
        if not inbound.provider_id or not inbound.from_address:
            raise HTTPException(400, "MessageSid and From are required")

        def keep() -> tuple[Freshness, str | None]:
            with session_scope(hooks.runtime.database_url) as session:
                verdict, new = receive_once(session, PROVIDER, [inbound.provider_id], now, hooks.max_age)
                if not new:
                    return verdict, None
                received = receive(session, hooks.runtime, inbound, now)
                logger.info("Text reply %s read as %s", received.inbound_id, received.intent)
                return verdict, received.answer

        verdict, answer = await run_in_threadpool(keep)
        hooks.refuse_replay(verdict)
        twiml = MessagingResponse()
        if answer:
            twiml.message(answer)
        return Response(str(twiml), media_type="text/xml")

    return routes
