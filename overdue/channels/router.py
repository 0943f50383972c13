"""The channel the outbox talks to: each message to its channel's sender, many at once.

Channels without a live sender go to the dry-run outbox. Batch senders of different channels run at the same
time in one event loop (texts, calls and emails do not wait for each other); a sender that takes one message
at a time is called in turn.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections import defaultdict
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any, TypeVar

from overdue.channels.base import BatchSender, ChannelSender, OutgoingMessage, SendResult
from overdue.channels.outbox import DryRunOutbox

T = TypeVar("T")
Sender = ChannelSender | BatchSender


class ChannelRouter:
    def __init__(self, senders: Mapping[str, Sender] | None = None, fallback: ChannelSender | None = None) -> None:
        self.senders = dict(senders or {})
        self.fallback = fallback or DryRunOutbox()

    def provider_of(self, channel: str) -> str:
        return str(getattr(self.senders.get(channel, self.fallback), "provider", "custom"))

    def send(self, message: OutgoingMessage) -> SendResult:
        return self.send_many([message])[0]

    def send_many(self, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
        """One result per message, in order."""
        by_channel: dict[str, list[int]] = defaultdict(list)
        for index, message in enumerate(messages):
            by_channel[message.channel].append(index)
        results: list[SendResult | None] = [None] * len(messages)
        batches: list[tuple[BatchSender, list[int]]] = []
        for channel, indexes in by_channel.items():
            sender = self.senders.get(channel, self.fallback)
            if isinstance(sender, BatchSender):
                batches.append((sender, indexes))
            else:
                for i in indexes:
                    results[i] = sender.send(messages[i])

        async def concurrently() -> None:
            sent = await asyncio.gather(*(s.send_batch([messages[i] for i in indexes]) for s, indexes in batches))
            for (_, indexes), outcome in zip(batches, sent, strict=True):
                for i, result in zip(indexes, outcome, strict=True):
                    results[i] = result

        if batches:
            run(concurrently())
        return [result for result in results if result is not None]


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from synchronous code, even when this thread already runs an event loop
    (then in a thread of its own)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
