"""Provider rate limits, enforced in one place.

A `RateLimiter` lets at most `rate` messages leave in any one-second window, and spaces them evenly instead of
letting a burst out at the start of each second (a provider counts at its end, where a burst arrives bunched).

What is counted is the instant a request leaves: a sender calls `departed(grant)` right before handing the
request to its HTTP client, and the grant's instant moves to then. A request held up after its grant (its
thread waiting for the CPU or the GIL) therefore holds back the grants after it, instead of arriving together
with them. Each decision reads the clock when it is made, so a late wake-up can delay a message but never
crowd a window. One limiter per provider channel and process; every request, retries included, passes it.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
import weakref
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

WINDOW = 1.0  # seconds
CATCH_UP = 0.05  # seconds of lateness the even schedule makes up for


@dataclass(slots=True)
class Grant:
    """Permission for `messages` to leave; `at` is when they were let go, then when they left."""

    at: float
    messages: int


class RateLimiter:
    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"a rate must be positive, not {rate}")
        self.rate = rate
        self.capacity = max(1, math.floor(rate * WINDOW))
        self._clock = clock
        self._sleep = sleep
        self._next = -math.inf  # the even schedule's next slot
        self._granted: deque[Grant] = deque()  # still inside the window
        self._in_window = 0
        self._state = threading.Lock()  # dispatches in two threads share one provider's limit
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()

    def __repr__(self) -> str:
        return f"RateLimiter({self.rate:g}/s)"

    def wait_time(self, now: float, messages: int = 1) -> float:
        """Seconds until `messages` may go: the next slot of the even schedule, and room in the window."""
        if messages > self.capacity:
            raise ValueError(f"{messages} messages at once exceed the limit of {self.capacity} per second")
        # Ages, not instants, are compared with the window: `now - at` is the one figure both the expiry and the
        # wait are computed from, so rounding can never let a grant in before an old one has left.
        while self._granted and now - self._granted[0].at >= WINDOW:
            self._in_window -= self._granted.popleft().messages
        wait = self._next - now
        excess = self._in_window + messages - self.capacity
        for grant in self._granted:
            if excess <= 0:
                break
            excess -= grant.messages
            wait = max(wait, WINDOW - (now - grant.at))
        return max(0.0, wait)

    def grant(self, now: float, messages: int = 1) -> Grant:
        # Keep to the schedule after a wake-up that came a little late (up to one slot, or CATCH_UP), so small
        # delays do not add up over thousands of messages; after a longer pause start afresh from now rather
        # than let the missed slots out in one burst. The window check caps any catching up anyway.
        spacing = messages / self.rate
        start = self._next if now - self._next < max(spacing, CATCH_UP) else now
        self._next = start + spacing
        granted = Grant(now, messages)
        self._granted.append(granted)
        self._in_window += messages
        return granted

    def departed(self, grant: Grant) -> None:
        """The granted request leaves now: it is counted from now on (never earlier than its grant)."""
        with self._state:
            grant.at = max(grant.at, self._clock())

    def hold(self, seconds: float) -> None:
        """The provider asked us to wait (Retry-After): nothing goes before then, from any request."""
        with self._state:
            self._next = max(self._next, self._clock() + seconds)

    async def acquire(self, messages: int = 1) -> Grant:
        """Wait for a grant. Waiters are served in arrival order within an event loop."""
        async with self._queue():
            while True:
                with self._state:
                    now = self._clock()
                    wait = self.wait_time(now, messages)
                    if wait <= 0:
                        return self.grant(now, messages)
                await self._sleep(wait)

    def _queue(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        with self._state:
            lock = self._queues.get(loop)
            if lock is None:
                lock = self._queues[loop] = asyncio.Lock()
            return lock
