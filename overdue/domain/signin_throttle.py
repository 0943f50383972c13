"""When failed sign-ins lock a name (or a client) out for a while: pure, so the rule is tested on its own.

A lock starts at the failure that makes `limit` failures within `window` and lasts `lockout` from that failure.
Attempts during a lock are refused before any password check and are not failures themselves, so a lock ends on
time however often someone knocks; failing again right after it (while the window still holds the earlier
failures) locks again at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    max_failures: int  # per user name
    max_failures_per_client: int  # per client address, when the server knows it (several names from one place)
    window: timedelta
    lockout: timedelta

    @property
    def lookback(self) -> timedelta:
        """How far back failures can still matter to a lock in force now."""
        return self.window + self.lockout


def locked_until(failures: Iterable[datetime], limit: int, policy: ThrottlePolicy, now: datetime) -> datetime | None:
    """The end of the lock in force at `now`, or None. `failures`: their times, any order."""
    times = sorted(failures)
    ends = [
        times[last] + policy.lockout
        for last in range(limit - 1, len(times))
        if times[last] - times[last - limit + 1] <= policy.window
    ]
    latest = max(ends, default=None)
    return latest if latest is not None and latest > now else None
