"""The US validation period: when a notice sent on a given day is presumed received, and when the
consumer's 30 days to dispute in writing run out (12 CFR 1006.34(b)(5)).

Receipt is presumed a number of business days after sending, skipping Saturdays, Sundays and the
jurisdiction's public holidays (from the `holidays` package); the period then runs in calendar days.
"""

from __future__ import annotations

from collections.abc import Container
from datetime import date, timedelta
from functools import cache

import holidays

from overdue.config.models import ValidationNoticeRule

SATURDAY = 5


@cache
def public_holidays(country: str) -> holidays.HolidayBase:
    """Every public holiday of `country`, in any year asked about (the table grows lazily)."""
    return holidays.country_holidays(country)


class ClosedDays:
    """A holiday calendar that remembers each answer: the cycle asks about the same few dates for every
    account of a jurisdiction, and a `holidays` look-up costs far more than a dict's."""

    def __init__(self, holidays: Container[date]) -> None:
        self._holidays = holidays
        self._known: dict[date, bool] = {}

    def __contains__(self, day: object) -> bool:
        if not isinstance(day, date):
            return False
        if day not in self._known:
            self._known[day] = day in self._holidays
        return self._known[day]


def is_business_day(day: date, closed: Container[date]) -> bool:
    return day.weekday() < SATURDAY and day not in closed


def add_business_days(start: date, count: int, closed: Container[date]) -> date:
    """The `count`-th business day after `start` (`start` itself is never counted)."""
    day = start
    while count > 0:
        day += timedelta(days=1)
        if is_business_day(day, closed):
            count -= 1
    return day


def presumed_receipt(sent_on: date, rule: ValidationNoticeRule, closed: Container[date]) -> date:
    return add_business_days(sent_on, rule.receipt_business_days, closed)


def validation_period_end(sent_on: date, rule: ValidationNoticeRule, closed: Container[date]) -> date:
    """The last day a dispute or a request for the original creditor is timely."""
    return presumed_receipt(sent_on, rule, closed) + timedelta(days=rule.period_days)


def in_validation_period(received_on: date, sent_on: date, rule: ValidationNoticeRule, closed: Container[date]) -> bool:
    return sent_on <= received_on <= validation_period_end(sent_on, rule, closed)
