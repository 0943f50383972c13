"""The dry-run outbox: messages are rendered, stored and viewable, and nothing leaves the machine."""

from __future__ import annotations

import hashlib

from overdue.channels.base import OutgoingMessage, SendResult


class DryRunOutbox:
    """Accepts every message; the provider id is derived from the idempotency key, so reruns agree."""

    provider = "dry-run"

    def send(self, message: OutgoingMessage) -> SendResult:
        digest = hashlib.sha256(message.idempotency_key.encode()).hexdigest()[:24]
        return SendResult(provider=self.provider, provider_id=f"dry-{digest}")
