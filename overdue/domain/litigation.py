"""Litigation after an approved escalation: the steps a legal case may take, in order, with dates.

A case starts `approved` (a person approved it; the demand letter is queued). From there the law allows only
forward steps; a case can be settled or withdrawn at any point before it ends, and nothing follows either.
"""

from __future__ import annotations

from datetime import date

APPROVED, LETTER_SENT, FILED, JUDGMENT, ENFORCEMENT = "approved", "letter_sent", "filed", "judgment", "enforcement"
SETTLED, WITHDRAWN = "settled", "withdrawn"
TRANSITIONS: dict[str, tuple[str, ...]] = {
    APPROVED: (LETTER_SENT, SETTLED, WITHDRAWN),
    LETTER_SENT: (FILED, SETTLED, WITHDRAWN),
    FILED: (JUDGMENT, SETTLED, WITHDRAWN),
    JUDGMENT: (ENFORCEMENT, SETTLED, WITHDRAWN),
    ENFORCEMENT: (SETTLED, WITHDRAWN),
    SETTLED: (),
    WITHDRAWN: (),
}
STATES = tuple(TRANSITIONS)
LEGAL_NOTICE = "legal_notice"  # the outbox purpose of the demand letter: the one message an account in legal gets
ENDED = (SETTLED, WITHDRAWN)


def refuse_step(current: str, new: str, on: date, last_on: date, today: date, cost_minor: int) -> str | None:
    """Why a step cannot be recorded, or None. Dates never go back before the previous step, nor past today."""
    if new not in TRANSITIONS:
        return f"unknown state '{new}' (one of {', '.join(STATES)})"
    if new not in TRANSITIONS[current]:
        allowed = ", ".join(TRANSITIONS[current]) or "none: the case has ended"
        return f"a case that is {current} cannot become {new} (next: {allowed})"
    if on < last_on:
        return f"{new} on {on} is before the previous step ({last_on})"
    if on > today:
        return f"{new} on {on} is in the future"
    if cost_minor < 0:
        return "a cost cannot be negative"
    return None
