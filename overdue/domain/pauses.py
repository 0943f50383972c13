"""Dated pauses of an account, and how they move its cadence: the clock stops while an account is paused.

A pause covers the days `start` to `end` inclusive (`end` None: until resumed). While an account is paused
the cycle changes neither its stage nor its messages. Afterwards everything counted in days carries on
where it stopped, shifted by the paused days:

- days past due, as stage conditions see them, leave out the paused days since the due date (Fineract's
  "delinquent days = past-due days minus paused days");
- a cadence's steps fall `paused days` later, counting the paused days from the cadence's first step (its
  anchor plus the first step's day offset) up to the day evaluated. A step sent before a pause keeps its
  date in the past; a step that fell inside the pause comes on the same day after it that it would have
  come after the pause's start: none is skipped and, since a message's key keeps the unshifted anchor,
  none is sent twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from overdue.config.models import CadenceStep


@dataclass(frozen=True, slots=True)
class Pause:
    start: date
    end: date | None  # the last paused day; None: open-ended

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


def is_paused(pauses: Iterable[Pause], day: date) -> bool:
    return any(pause.covers(day) for pause in pauses)


def paused_days(pauses: Iterable[Pause], since: date, before: date) -> int:
    """Days d with since <= d < before that lie in a pause (overlapping pauses count each day once)."""
    days: set[date] = set()
    for pause in pauses:
        first = max(pause.start, since)
        last = before - timedelta(days=1) if pause.end is None else min(pause.end, before - timedelta(days=1))
        days.update(first + timedelta(days=n) for n in range((last - first).days + 1))
    return len(days)


def effective_dpd(dpd: int, due_date: date, pauses: Sequence[Pause], as_of: date) -> int:
    """Days past due that count: the paused ones since the due date do not."""
    return dpd - paused_days(pauses, due_date, as_of) if pauses else dpd


def shifted_anchor(anchor: date, steps: Sequence[CadenceStep], pauses: Sequence[Pause], as_of: date) -> date:
    """The anchor the cadence's steps are counted from on `as_of`: later by the paused days since its first step."""
    if not pauses or not steps:
        return anchor
    return anchor + timedelta(days=paused_days(pauses, anchor + timedelta(days=steps[0].day), as_of))
