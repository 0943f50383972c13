"""The lock-out rule for failed sign-ins (overdue/domain/signin_throttle.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from overdue.domain.signin_throttle import ThrottlePolicy, locked_until

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
RULES = ThrottlePolicy(
    max_failures=3, max_failures_per_client=10, window=timedelta(minutes=15), lockout=timedelta(minutes=10)
)


def minutes(*offsets: float) -> list[datetime]:
    return [T0 + timedelta(minutes=m) for m in offsets]


def test_the_failure_that_reaches_the_limit_within_the_window_starts_the_lock() -> None:
    assert locked_until(minutes(0, 1), 3, RULES, T0 + timedelta(minutes=1)) is None
    failures = minutes(0, 1, 2)
    assert locked_until(failures, 3, RULES, T0 + timedelta(minutes=2)) == T0 + timedelta(minutes=12)
    assert locked_until(list(reversed(failures)), 3, RULES, T0 + timedelta(minutes=11)) == T0 + timedelta(minutes=12)


def test_the_lock_ends_on_time() -> None:
    assert locked_until(minutes(0, 1, 2), 3, RULES, T0 + timedelta(minutes=12)) is None


def test_failures_spread_wider_than_the_window_do_not_lock() -> None:
    assert locked_until(minutes(0, 10, 16), 3, RULES, T0 + timedelta(minutes=16)) is None
    assert locked_until(minutes(0, 10, 15), 3, RULES, T0 + timedelta(minutes=15)) == T0 + timedelta(minutes=25)


def test_failing_again_right_after_a_lock_locks_again() -> None:
    failures = minutes(0, 1, 2, 13)  # the lock ended at 12; the window still holds 1 and 2
    assert locked_until(failures, 3, RULES, T0 + timedelta(minutes=13)) == T0 + timedelta(minutes=23)
