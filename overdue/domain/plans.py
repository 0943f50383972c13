"""Plan monitoring: apply money to installments in order, and judge a plan kept, broken or active."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

ACTIVE, KEPT, BROKEN = "active", "kept", "broken"
PROMISE = "promise"  # a promise to pay: a plan of one installment, judged like any plan


@dataclass(frozen=True, slots=True)
class InstallmentState:
    seq: int
    due_date: date
    amount_minor: int
    paid_minor: int

    @property
    def outstanding_minor(self) -> int:
        return self.amount_minor - self.paid_minor


def apply_to_installments(installments: Sequence[InstallmentState], amount_minor: int) -> list[InstallmentState]:
    """Pay the oldest installment first; money beyond the schedule stays with the account."""
    result: list[InstallmentState] = []
    remaining = amount_minor
    for item in sorted(installments, key=lambda i: i.seq):
        take = min(remaining, item.outstanding_minor)
        remaining -= take
        result.append(InstallmentState(item.seq, item.due_date, item.amount_minor, item.paid_minor + take))
    return result


def plan_status(earliest_unpaid_due: date | None, today: date, grace_days: int) -> str:
    """Nothing unpaid is kept; an unpaid installment past its grace breaks the plan, and the oldest unpaid one
    is the first to be. The date alone decides, so the daily monitor reads one row per plan, not its schedule."""
    if earliest_unpaid_due is None:
        return KEPT
    if today > earliest_unpaid_due + timedelta(days=grace_days):
        return BROKEN
    return ACTIVE


def next_unpaid(installments: Sequence[InstallmentState]) -> InstallmentState | None:
    return next((i for i in sorted(installments, key=lambda i: i.seq) if i.outstanding_minor > 0), None)
