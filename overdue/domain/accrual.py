"""Interest and fees a delinquent account accrues between two days, as the policy's terms say.

The daily cycle does this in one SQL statement per shard (overdue/services/accrual.py); this is the same
arithmetic for one account, for the tests to hold the statement to and for anyone to read."""

from __future__ import annotations

from dataclasses import dataclass

from overdue.config.models import AccrualTerms

DAYS_PER_YEAR = 365
PPM = 1_000_000


def late_fees_reached(dpd: int, every_days: int) -> int:
    """How many late fees are due by `dpd` days past due: one on day 1, one more every `every_days`."""
    return 0 if dpd < 1 else (dpd - 1) // every_days + 1


def daily_interest(principal_minor: int, rate_ppm: int) -> int:
    """One day's simple interest on principal, rounded down (in the customer's favour)."""
    return max(principal_minor, 0) * rate_ppm // (DAYS_PER_YEAR * PPM)


def capped(balance: int, increase: int, cap: int | None) -> int:
    """Add up to the cap; a balance already above the cap (as imported) stays where it is, never lowered."""
    if cap is None or balance + increase <= cap:
        return balance + increase
    return max(balance, cap)


@dataclass(frozen=True)
class Accrued:
    interest_minor: int
    fees_minor: int


def accrue(
    principal_minor: int,
    interest_minor: int,
    fees_minor: int,
    currency: str,
    dpd_from: int,
    dpd_to: int,
    terms: AccrualTerms | None,
    frozen: bool,
) -> Accrued:
    """The interest and fee balances after the days past due (dpd_from, dpd_to] went by."""
    days = dpd_to - max(dpd_from, 0)
    if terms is None or frozen or dpd_to < 1 or days <= 0:
        return Accrued(interest_minor, fees_minor)
    interest_cap = None if terms.cap_ppm is None else principal_minor * terms.cap_ppm // PPM
    interest = capped(interest_minor, daily_interest(principal_minor, terms.rate_ppm) * days, interest_cap)
    fee = terms.late_fee.get(currency) if terms.late_fee else None
    fees = fees_minor
    if fee:
        charged = late_fees_reached(dpd_to, terms.late_fee_every_days) - late_fees_reached(
            max(dpd_from, 0), terms.late_fee_every_days
        )
        fees = capped(fees_minor, fee * charged, terms.fees_cap.get(currency) if terms.fees_cap else None)
    return Accrued(interest, fees)
