"""Which cadence step is due today, and when the next one is. Steps count days from an anchor date."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from overdue.config.models import CadenceStep


def step_due(steps: Sequence[CadenceStep], anchor: date, today: date, catch_up_days: int) -> CadenceStep | None:
    """The latest step whose day has come, unless it is more than `catch_up_days` old.

    Taking only the latest step means a late start (or a re-anchored schedule) sends one message,
    not a pile of stale ones.
    """
    due = [step for step in steps if anchor + timedelta(days=step.day) <= today]
    if not due:
        return None
    latest = due[-1]
    if (today - (anchor + timedelta(days=latest.day))).days > catch_up_days:
        return None
    return latest


def next_step_date(steps: Sequence[CadenceStep], anchor: date, today: date) -> date | None:
    for step in steps:
        when = anchor + timedelta(days=step.day)
        if when > today:
            return when
    return None
