"""Installment offers within the configured bounds. Pure: balance and bounds in, offer out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from overdue.config.models import InstallmentBounds
from overdue.domain.money import split_evenly


@dataclass(frozen=True)
class InstallmentOffer:
    total_minor: int
    amounts: tuple[int, ...]
    first_due_date: date
    expires_on: date

    @property
    def installments(self) -> int:
        return len(self.amounts)


def propose_installment_plan(
    balance_minor: int, currency: str, bounds: InstallmentBounds, today: date
) -> InstallmentOffer | None:
    """The target term, shortened until each installment reaches the minimum; None when even the
    shortest allowed term would fall below it (a balance that small is asked for in one payment)."""
    if balance_minor <= 0:
        return None
    minimum = bounds.min_installment.get(currency) or 1
    months = bounds.target_months
    while months > bounds.min_months and balance_minor // months < minimum:
        months -= 1
    if balance_minor // months < minimum:
        return None
    return InstallmentOffer(
        total_minor=balance_minor,
        amounts=tuple(split_evenly(balance_minor, months)),
        first_due_date=today + timedelta(days=bounds.first_due_after_days),
        expires_on=today + timedelta(days=bounds.expires_after_days),
    )


def installment_dates(first_due: date, count: int) -> list[date]:
    """Monthly from the first due date; relativedelta keeps month ends sane (Jan 31 -> Feb 28)."""
    return [first_due + relativedelta(months=i) for i in range(count)]
