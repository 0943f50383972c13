"""One interface for every channel; the dry-run outbox is the default when no credentials are set."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class OutgoingMessage:
    idempotency_key: str
    channel: str
    address: str
    subject: str | None
    body: str


@dataclass(frozen=True)
class SendResult:
    provider: str
    provider_id: str
    accepted: bool = True
    error: str | None = None


class ChannelSender(Protocol):
    def send(self, message: OutgoingMessage) -> SendResult: ...
