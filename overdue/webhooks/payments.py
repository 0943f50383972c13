"""The payment webhook: a payment provider (or the bank's payment hub) tells us about money received, returned
(reversal) or charged back, as it happens.

    POST /webhooks/payments
    X-Overdue-Timestamp: 1773154800                  (seconds since the epoch, when the request was signed)
    X-Overdue-Signature: v1=<hex HMAC-SHA256 of "<timestamp>." + the raw body, keyed by OVERDUE_PAYMENT_WEBHOOK_SECRET>
    Content-Type: application/json

    {"event_id": "evt_0001", "type": "payment", "payment_ref": "PAY-0001", "account_ref": "A-US-1001",
     "amount": "120.00", "currency": "USD", "received_on": "2026-03-10"}

`type` is `payment`, `reversal` or `chargeback`; the last two also name `reverses` (the payment_ref returned).
A forged or stale request gets 403 and changes nothing; the same event again within the replay window is
answered `duplicate` and changes nothing, later it is a replay (403). The payment is applied in the same
transaction as its receipt, so queued reminders it answers are cancelled before the response leaves.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Annotated, Literal

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlmodel import col
from starlette.concurrency import run_in_threadpool

from overdue.domain.money import to_minor
from overdue.services.payments import PaymentError, PaymentIn, PaymentResults, record_payments
from overdue.store.db import session_scope
from overdue.store.tables import Account
from overdue.webhooks.context import Hooks
from overdue.webhooks.security import Freshness, fresh, hmac_signed, receive_once, signed_at_unix

PROVIDER = "payments"
TIMESTAMP = "X-Overdue-Timestamp"
SIGNATURE = "X-Overdue-Signature"
logger = logging.getLogger(__name__)


class PaymentEvent(BaseModel):
    """The JSON body. `amount` in major units as a string ("120.00"), never a float."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: Annotated[str, Field(min_length=1, max_length=200)]
    type: Literal["payment", "reversal", "chargeback"]
    payment_ref: Annotated[str, Field(min_length=1, max_length=128)]
    account_ref: Annotated[str, Field(min_length=1, max_length=64)]
    amount: str
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    received_on: date
    reverses: Annotated[str | None, Field(max_length=128)] = None

    @model_validator(mode="after")
    def _consistent(self) -> PaymentEvent:
        if self.amount_minor <= 0:
            raise ValueError("amount must be more than zero")
        if (self.type == "payment") != (self.reverses is None):
            raise ValueError("reverses names the payment a reversal or chargeback returns, and only then")
        return self

    @property
    def amount_minor(self) -> int:
        return to_minor(self.amount, self.currency)


def router(hooks: Hooks) -> APIRouter:
    routes = APIRouter(prefix="/webhooks")

    @routes.post("/payments")
    async def payment(request: Request) -> dict[str, str]:
        body = await request.body()
        timestamp = request.headers.get(TIMESTAMP)
        if not hmac_signed(
            hooks.runtime.settings.payment_webhook_secret, timestamp, body, request.headers.get(SIGNATURE)
        ):
            raise HTTPException(403, "signature does not match")
        now = hooks.now()
        if not fresh(signed_at_unix(timestamp), now, hooks.max_age):
            raise HTTPException(403, "stale request")
        try:
            event = PaymentEvent.model_validate_json(body)
        except (ValidationError, ValueError) as exc:
            raise HTTPException(422, str(exc)) from None

        def apply() -> tuple[Freshness, PaymentResults | None]:
            with session_scope(hooks.runtime.database_url) as session:
                verdict, new = receive_once(session, PROVIDER, [event.event_id], now, hooks.max_age)
                if not new:
                    return verdict, None
                account_id = session.scalar(
                    sa.select(col(Account.id)).where(col(Account.external_ref) == event.account_ref)
                )
                if account_id is None:
                    raise HTTPException(422, f"no account {event.account_ref!r}")  # rolls back the receipt too
                incoming = PaymentIn(
                    event.payment_ref,
                    account_id,
                    event.amount_minor,
                    event.currency,
                    event.received_on,
                    "webhook",
                    event.type,
                    event.reverses,
                )
                try:
                    return verdict, record_payments(session, hooks.runtime.config, [incoming], "webhook:payments", now)
                except PaymentError as exc:
                    raise HTTPException(422, str(exc)) from None

        verdict, results = await run_in_threadpool(apply)
        hooks.refuse_replay(verdict)
        status = "recorded" if results is not None and results.recorded else "duplicate"
        logger.info("Payment webhook %s: %s %s", event.event_id, event.type, status)
        return {"status": status, "payment_ref": event.payment_ref}

    return routes
