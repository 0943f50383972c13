"""Days-past-due buckets, as collection reports roll accounts between them (the 30-day buckets of the
industry's roll-rate reports, with 'closed' as the bucket an account leaves for when nothing is owed)."""

from __future__ import annotations

# (code, label, lowest DPD, highest DPD); code 0 takes everything not yet past due.
DPD_BUCKETS: tuple[tuple[int, str, int | None, int | None], ...] = (
    (0, "current", None, 0),
    (1, "1-30", 1, 30),
    (2, "31-60", 31, 60),
    (3, "61-90", 61, 90),
    (4, "91-120", 91, 120),
    (5, "121-180", 121, 180),
    (6, "181+", 181, None),
)
CLOSED_BUCKET = 7
LABELS = {code: label for code, label, _, _ in DPD_BUCKETS} | {CLOSED_BUCKET: "closed"}
DELINQUENT = frozenset(code for code, _, low, _ in DPD_BUCKETS if low is not None)


def bucket_of(dpd: int, closed: bool) -> int:
    if closed:
        return CLOSED_BUCKET
    for code, _, low, high in DPD_BUCKETS:
        if (low is None or dpd >= low) and (high is None or dpd <= high):
            return code
    raise AssertionError(f"no bucket for {dpd}")  # the buckets cover every integer


def is_cure(before: int, after: int) -> bool:
    """Delinquent before, nothing past due (or nothing owed) after."""
    return before in DELINQUENT and after in (0, CLOSED_BUCKET)
