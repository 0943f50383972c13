"""Provider rate limits, enforced in one place.

A `RateLimiter` lets at most `rate` messages go in any one-second window, and spaces them evenly instead of
letting a burst out at the start of each second (a provider counts at its end, where a burst arrives bunched).
Each decision reads the clock at the instant of the grant, so a late wake-up can delay a message but never
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

WINDOW = 1.0  # seconds
CATCH_UP = 0.05  # seconds of lateness the even schedule makes up for
# Seconds a request may take to leave after its grant (the event loop's thread waiting for the GIL, say): the
# window is kept this much longer, so requests still never crowd one when they leave a little late. It costs
# one percent of the rate.
LEEWAY = 0.01


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
        self._granted: deque[tuple[float, int]] = deque()  # (instant, messages) still inside the window
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
        span = WINDOW + LEEWAY
        while self._granted and now - self._granted[0][0] >= span:
            self._in_window -= self._granted.popleft()[1]
        wait = self._next - now
        excess = self._in_window + messages - self.capacity
        for at, count in self._granted:
            if excess <= 0:
                break
            excess -= count
            wait = max(wait, span - (now - at))
        return max(0.0, wait)

    def grant(self, now: float, messages: int = 1) -> None:
        # Keep to the schedule after a wake-up that came a little late (up to one slot, or CATCH_UP), so small
        # delays do not add up over thousands of messages; after a longer pause start afresh from now rather
        # than let the missed slots out in one burst. The window check caps any catching up anyway.
        spacing = messages / self.rate
        start = self._next if now - self._next < max(spacing, CATCH_UP) else now
        self._next = start + spacing
        self._granted.append((now, messages))
        self._in_window += messages

    def hold(self, seconds: float) -> None:
        """The provider asked us to wait (Retry-After): nothing goes before then, from any request."""
        with self._state:
            self._next = max(self._next, self._clock() + seconds)

    async def acquire(self, messages: int = 1) -> None:
        """Wait for a grant. Waiters are served in arrival order within an event loop."""
        async with self._queue():
            while True:
                with self._state:
                    now = self._clock()
                    wait = self.wait_time(now, messages)
                    if wait <= 0:
                        self.grant(now, messages)
                        return
                await self._sleep(wait)

    def _queue(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        with self._state:
            lock = self._queues.get(loop)
            if lock is None:
                lock = self._queues[loop] = asyncio.Lock()
            return lock
