"""Offers within the configured bounds. Pure: the balance, the policy and the calendar in, the terms out.

Every offer states what the customer pays in total, when (a schedule whose amounts sum exactly to that
total: `split_evenly`, the first payments carrying the odd cents), and what happens to interest and fees.
Due dates falling on a weekend or a public holiday of the jurisdiction move to the next business day.
Terms outside the bounds are not refused: they are marked, with the reasons, for a person to approve.
"""

from __future__ import annotations

import calendar
from collections.abc import Container
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_FLOOR, Decimal

from overdue.config.offer_policy import (
    Approvals,
    DeferralTerms,
    DueDateChangeTerms,
    InstallmentTerms,
    KindTerms,
    OfferPolicy,
    SettlementTerms,
    TokenTerms,
)
from overdue.domain.money import ceil_div, split_evenly
from overdue.domain.validation import is_business_day

INSTALLMENT, INTEREST_SUSPENDED, SETTLEMENT, DEFERRAL, DUE_DATE_CHANGE, TOKEN = (
    "installment",
    "interest_suspended",
    "settlement",
    "deferral",
    "due_date_change",
    "token",
)


class OfferRefused(ValueError):
    """Terms no approval could make sensible (a kind not offered here, a discount of 100%, a past date)."""


@dataclass(frozen=True, slots=True)
class Due:
    due_date: date
    amount_minor: int


@dataclass(frozen=True)
class Request:
    """What an agent (or the cycle) asks for; a field left None takes the policy's default."""

    kind: str = INSTALLMENT
    months: int | None = None
    discount_pct: Decimal | None = None
    defer_days: int | None = None
    pay_on: date | None = None


@dataclass(frozen=True)
class Facts:
    balance_minor: int
    currency: str
    today: date
    closed: Container[date]  # the jurisdiction's public holidays
    capacity_minor: int | None = None  # monthly capacity to pay, when the customer told us
    hardship: bool = False
    broken_plans: int = 0


@dataclass(frozen=True)
class OfferTerms:
    kind: str
    balance_minor: int
    total_minor: int  # what the customer pays under the offer
    discount_minor: int  # written off when it is kept (a settlement)
    schedule: tuple[Due, ...]
    interest: str  # accrues, frozen or waived
    fees: str
    on_kept: str  # cure, settle or review
    expires_on: date
    discount_pct: Decimal = Decimal(0)
    outside_bounds: tuple[str, ...] = ()
    approvals_needed: int = 0
    affordable: bool | None = None  # every payment within the stated capacity; None when it is unknown

    @property
    def installments(self) -> int:
        return len(self.schedule)

    @property
    def first_due_date(self) -> date:
        return self.schedule[0].due_date


def on_business_day(day: date, closed: Container[date]) -> date:
    """The day itself, or the next one that is neither a weekend nor a public holiday."""
    while not is_business_day(day, closed):
        day += timedelta(days=1)
    return day


def monthly_schedule(total_minor: int, count: int, first_due: date, closed: Container[date]) -> tuple[Due, ...]:
    """Monthly from `first_due` (month ends clamped: Jan 31 -> Feb 28), each date moved off
    weekends and holidays; the month is counted from the unmoved date, so one move never shifts the rest."""
    if count <= 0:
        raise OfferRefused("a schedule needs at least one payment")
    if total_minor < count:
        raise OfferRefused(f"{total_minor} minor units cannot be split into {count} payments")
    amounts = split_evenly(total_minor, count)
    return tuple(Due(on_business_day(add_months(first_due, i), closed), amount) for i, amount in enumerate(amounts))


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (Jan 31 + 1 -> Feb 28), as relativedelta does,
    at a tenth of its cost: the cycle computes a schedule for every account it makes an offer to."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def build_offer(request: Request, facts: Facts, policy: OfferPolicy) -> OfferTerms:
    """The terms of one offer, with the reasons they fall outside the bounds and the approvals they need."""
    if facts.balance_minor <= 0:
        raise OfferRefused("nothing is owed")
    try:
        terms = policy.terms(request.kind)
    except KeyError as exc:
        raise OfferRefused(exc.args[0]) from None
    if not terms.enabled:
        raise OfferRefused(f"{request.kind} offers are not available here")
    if isinstance(terms, InstallmentTerms):
        schedule, reasons = _installments(request, facts, policy, terms)
    elif isinstance(terms, SettlementTerms):
        schedule, reasons = _settlement(request, facts, terms)
    elif isinstance(terms, DeferralTerms):
        schedule, reasons = _deferral(request, facts, terms)
    elif isinstance(terms, DueDateChangeTerms):
        schedule, reasons = _due_date_change(request, facts, terms)
    elif isinstance(terms, TokenTerms):
        schedule, reasons = _token(request, facts, policy, terms)
    else:  # pragma: no cover - KINDS and the branches above are the same list
        raise OfferRefused(f"no rule for {request.kind}")
    if facts.broken_plans > policy.renegotiations:
        reasons.append(f"{facts.broken_plans} broken plans: the {policy.renegotiations} re-negotiation(s) are used")
    total = sum(d.amount_minor for d in schedule)
    pct = _discount_pct(request, terms)
    return OfferTerms(
        kind=request.kind,
        balance_minor=facts.balance_minor,
        total_minor=total,
        discount_minor=facts.balance_minor - total if terms.on_kept == "settle" else 0,
        schedule=schedule,
        interest=terms.interest,
        fees=terms.fees,
        on_kept=terms.on_kept,
        expires_on=facts.today + timedelta(days=policy.expires_after_days),
        discount_pct=pct,
        outside_bounds=tuple(reasons),
        approvals_needed=approvals_needed(request.kind, tuple(reasons), facts, pct, policy.approvals),
        affordable=None
        if facts.capacity_minor is None
        else all(d.amount_minor <= facts.capacity_minor for d in schedule),
    )


def approvals_needed(kind: str, outside: tuple[str, ...], facts: Facts, discount_pct: Decimal, rule: Approvals) -> int:
    """0 within the bounds; 1 outside them, or for a settlement above a first threshold; 2 (two different
    people) when approval is needed and the discount or the balance is above a second threshold. A currency
    with no threshold configured counts as above the first one (someone looks) and below the second."""
    needs = bool(outside)
    if kind == SETTLEMENT:
        single = rule.settlement_balance.get(facts.currency)
        needs |= discount_pct > rule.settlement_discount_pct or single is None or facts.balance_minor > single
    if not needs:
        return 0
    dual = rule.dual_balance.get(facts.currency)
    return 2 if discount_pct > rule.dual_discount_pct or (dual is not None and facts.balance_minor > dual) else 1


def automatic_offer(facts: Facts, policy: OfferPolicy) -> OfferTerms | None:
    """What the cycle offers unasked: an installment plan needing no approval, or nothing (a balance too small
    to split, the re-negotiations used up: then a person or legal review takes over)."""
    try:
        terms = build_offer(Request(INSTALLMENT), facts, policy)
    except OfferRefused:
        return None
    return terms if terms.approvals_needed == 0 else None


def menu(facts: Facts, policy: OfferPolicy) -> list[OfferTerms]:
    """Every kind available here, at its default terms: what an agent can put to the customer."""
    offers = []
    for kind in (INSTALLMENT, INTEREST_SUSPENDED, SETTLEMENT, DEFERRAL, DUE_DATE_CHANGE, TOKEN):
        try:
            offers.append(build_offer(Request(kind), facts, policy))
        except OfferRefused:
            continue
    return offers


# --- one function per kind: (schedule, reasons outside the bounds) ---------------------------------------------


def _installments(
    request: Request, facts: Facts, policy: OfferPolicy, terms: InstallmentTerms
) -> tuple[tuple[Due, ...], list[str]]:
    minimum = terms.min_installment.get(facts.currency) or 1
    months = request.months or _default_months(facts, terms, minimum)
    reasons = []
    if not terms.min_months <= months <= terms.max_months:
        reasons.append(f"{months} months is outside {terms.min_months}-{terms.max_months}")
    if facts.balance_minor // months < minimum:
        reasons.append(f"installments below the minimum of {minimum} minor units")
    if terms.requires_hardship and not facts.hardship:
        reasons.append("needs a hardship flag on the account")
    first = facts.today + timedelta(days=policy.first_due_after_days)
    return monthly_schedule(facts.balance_minor, months, first, facts.closed), reasons


def _default_months(facts: Facts, terms: InstallmentTerms, minimum: int) -> int:
    """The target term, or the shortest the customer can afford when we know their capacity; never beyond the
    bounds, and shortened until each installment reaches the minimum."""
    months = terms.target_months
    if facts.capacity_minor:
        months = max(terms.min_months, ceil_div(facts.balance_minor, facts.capacity_minor))
    months = min(months, terms.max_months)
    while months > terms.min_months and facts.balance_minor // months < minimum:
        months -= 1
    return months


def _discount_pct(request: Request, terms: KindTerms) -> Decimal:
    if not isinstance(terms, SettlementTerms):
        return Decimal(0)
    return terms.default_discount_pct if request.discount_pct is None else request.discount_pct


def _settlement(request: Request, facts: Facts, terms: SettlementTerms) -> tuple[tuple[Due, ...], list[str]]:
    pct = _discount_pct(request, terms)
    if not Decimal(0) <= pct < 100:
        raise OfferRefused(f"a discount of {pct}% is not a settlement")
    reasons = (
        [f"discount {pct}% is above the {terms.max_discount_pct}% allowed"] if pct > terms.max_discount_pct else []
    )
    # The discount is rounded down to the minor unit: the customer is never promised more than the stated %.
    discount = int((Decimal(facts.balance_minor) * pct / 100).to_integral_value(rounding=ROUND_FLOOR))
    due = on_business_day(facts.today + timedelta(days=terms.pay_within_days), facts.closed)
    return (Due(due, facts.balance_minor - discount),), reasons


def _deferral(request: Request, facts: Facts, terms: DeferralTerms) -> tuple[tuple[Due, ...], list[str]]:
    days = request.defer_days or terms.default_days
    months = request.months or 1
    if days <= 0:
        raise OfferRefused("a deferral is at least one day")
    reasons = []
    if days > terms.max_days:
        reasons.append(f"a grace of {days} days is beyond the {terms.max_days} allowed")
    if months > terms.max_months:
        reasons.append(f"{months} payments after the grace is beyond the {terms.max_months} allowed")
    return monthly_schedule(facts.balance_minor, months, facts.today + timedelta(days=days), facts.closed), reasons


def _due_date_change(request: Request, facts: Facts, terms: DueDateChangeTerms) -> tuple[tuple[Due, ...], list[str]]:
    pay_on = request.pay_on or facts.today + timedelta(days=terms.max_shift_days)
    if pay_on <= facts.today:
        raise OfferRefused("the new due date must be after today")
    shift = (pay_on - facts.today).days
    reasons = []
    if shift > terms.max_shift_days:
        reasons.append(f"moving the due date {shift} days is beyond the {terms.max_shift_days} allowed")
    return (Due(on_business_day(pay_on, facts.closed), facts.balance_minor),), reasons


def _token(request: Request, facts: Facts, policy: OfferPolicy, terms: TokenTerms) -> tuple[tuple[Due, ...], list[str]]:
    amount = terms.amount.get(facts.currency)
    if amount is None:
        raise OfferRefused(f"no token amount for {facts.currency} in configs/offers.yaml")
    months = request.months or terms.months
    reasons = []
    if months > terms.months:
        reasons.append(f"{months} months of token payments is beyond the {terms.months} before a review")
    total = min(amount * months, facts.balance_minor)
    first = facts.today + timedelta(days=policy.first_due_after_days)
    return monthly_schedule(total, min(months, total), first, facts.closed), reasons
