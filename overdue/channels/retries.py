"""Provider errors and the one retry loop every provider request goes through.

Only answers that say "not now" are retried: 429 and 5xx, waiting as long as Retry-After asks (every request
to that provider holds off, not just this one) or backing off exponentially with jitter. A request whose
answer never came is not retried: it may have gone through, and a customer must not get a message twice.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

from overdue.channels.throttle import RateLimiter

T = TypeVar("T")


class ProviderError(Exception):
    """A provider's answer other than success. `status` None: the connection failed before the request left.
    `fields`: the request fields the provider named as wrong (dotted paths), when it named any."""

    def __init__(
        self,
        status: int | None,
        message: str,
        *,
        code: int | None = None,
        retry_after: float | None = None,
        fields: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.retry_after = retry_after
        self.fields = fields

    @property
    def retryable(self) -> bool:
        return self.status is None or self.status == 429 or self.status >= 500

    def __str__(self) -> str:
        parts = [f"HTTP {self.status}" if self.status else "connection failed"]
        if self.code is not None and self.code != self.status:
            parts.append(f"error {self.code}")
        return f"{' '.join(parts)}: {self.args[0]}"


class NoResponse(Exception):
    """The request left but no answer came back: the provider may have acted on it, so it is never retried."""


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After in seconds, written as seconds or as an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 60.0
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def delay(self, attempt: int, error: ProviderError) -> float | None:
        """Seconds to wait before try `attempt + 1`, or None to give up: out of tries, or asked to wait
        longer than we are willing to (sending earlier than the provider allows would only be refused again)."""
        if attempt >= self.attempts:
            return None
        if error.retry_after is not None:
            return error.retry_after if error.retry_after <= self.max_delay else None
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)


@dataclass(frozen=True)
class Pacing:
    """How one provider channel's requests go out: through its limiter, retried by its policy, at most
    `concurrency` in flight, each given up after `timeout` seconds without an answer."""

    limiter: RateLimiter
    retry: RetryPolicy
    concurrency: int
    timeout: float


async def call_with_retries(
    call: Callable[[], Awaitable[T]],
    limiter: RateLimiter,
    policy: RetryPolicy,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """`call` once per try. Each try passes `limiter` itself, as close to its request as it can (a retry costs
    the provider a request too); a Retry-After holds every request that passes the limiter, not just this one."""
    attempt = 0
    while True:
        attempt += 1
        try:
            return await call()
        except ProviderError as error:
            wait = policy.delay(attempt, error) if error.retryable else None
            if wait is None:
                raise
            if error.retry_after is not None:
                limiter.hold(wait)
            await sleep(wait)
