"""One interface for every channel; the dry-run outbox is the default when no credentials are set.

A sender takes messages one at a time (`ChannelSender.send`) or, for a provider that is faster in bulk or
concurrently, many at once (`BatchSender.send_batch`); the router hands each channel's messages to its sender.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class OutgoingMessage:
    idempotency_key: str
    channel: str
    address: str
    subject: str | None
    body: str
    message_id: int | None = None  # our outbox row: status callbacks and unsubscribe links point back to it
    locale: str = "en-US"


class Failure(StrEnum):
    """Why a provider did not take a message. The first two are facts about the contact point, written back to
    it so the guard stops using it; the others are about this attempt only."""

    INVALID_ADDRESS = "invalid_address"  # not a deliverable number or address (Twilio 21211, a hard bounce)
    UNSUBSCRIBED = "unsubscribed"  # the recipient opted out at the provider or carrier (Twilio 21610)
    REJECTED = "rejected"  # the provider refused the request itself (400/422): our bug or our configuration
    PROVIDER_ERROR = "provider_error"  # 429 or 5xx, still failing after every retry
    NO_RESPONSE = "no_response"  # the request may have gone through: never retried blindly


PERMANENT = (Failure.INVALID_ADDRESS, Failure.UNSUBSCRIBED)


@dataclass(frozen=True)
class SendResult:
    provider: str
    provider_id: str | None
    accepted: bool = True
    error: str | None = None
    failure: Failure | None = None


class ChannelSender(Protocol):
    def send(self, message: OutgoingMessage) -> SendResult: ...


@runtime_checkable
class BatchSender(Protocol):
    """Sends many messages in one go (concurrent requests, several recipients per request); one result per
    message, in the same order."""

    provider: str

    async def send_batch(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]: ...
