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


def plan_status(installments: Sequence[InstallmentState], today: date, grace_days: int) -> str:
    if all(item.outstanding_minor <= 0 for item in installments):
        return KEPT
    for item in installments:
        if item.outstanding_minor > 0 and today > item.due_date + timedelta(days=grace_days):
            return BROKEN
    return ACTIVE


def next_unpaid(installments: Sequence[InstallmentState]) -> InstallmentState | None:
    return next((i for i in sorted(installments, key=lambda i: i.seq) if i.outstanding_minor > 0), None)
