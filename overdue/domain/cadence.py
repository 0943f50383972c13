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


def anchor_for(natural: date, anchor_on: date | None, stage_entered_on: date | None) -> date:
    """The date a stage's cadence counts from: its natural anchor (the due date for reminders, the day
    negotiation began), unless the account was re-anchored (overdue/services/reanchor.py) after it entered
    the stage it is in. A re-anchor from an earlier stage no longer applies."""
    if anchor_on is not None and stage_entered_on is not None and anchor_on >= stage_entered_on:
        return anchor_on
    return natural
