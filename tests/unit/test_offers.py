"""Offers and plan math, pure: bounds per jurisdiction and product, approvals, schedules, affordability."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from overdue.config import load_configuration
from overdue.config.offer_policy import OfferPolicy
from overdue.domain.affordability import Statement, capacity_to_pay
from overdue.domain.offers import (
    DEFERRAL,
    DUE_DATE_CHANGE,
    INSTALLMENT,
    INTEREST_SUSPENDED,
    SETTLEMENT,
    TOKEN,
    Facts,
    OfferRefused,
    Request,
    add_months,
    automatic_offer,
    build_offer,
    menu,
    monthly_schedule,
)
from overdue.domain.validation import ClosedDays, public_holidays
from overdue.settings import PROJECT_ROOT

CONFIG = load_configuration(PROJECT_ROOT / "configs")
CURRENCY = {"US": "USD", "CN": "CNY", "UK": "GBP"}
TODAY = date(2026, 3, 10)


def facts(jurisdiction: str, balance: int, today: date = TODAY, **more: object) -> Facts:
    closed = public_holidays(CONFIG.policy(jurisdiction).holiday_country)
    return Facts(balance, CURRENCY[jurisdiction], today, closed, **more)  # type: ignore[arg-type]


def policy(jurisdiction: str, product: str = "credit_card") -> OfferPolicy:
    return CONFIG.offers.policy(jurisdiction, product)


# --- bounds per jurisdiction and product -------------------------------------------------------------------


def test_bounds_resolve_per_jurisdiction_then_product() -> None:
    assert policy("US").installment.max_months == 12
    assert policy("CN").installment.max_months == 60  # 个性化分期 up to five years
    assert policy("CN").interest_suspended.max_months == 60
    assert policy("US", "personal_loan").installment.max_months == 24
    assert policy("UK").token.enabled
    assert not policy("US").token.enabled


def test_token_payments_are_offered_only_where_the_policy_allows() -> None:
    with pytest.raises(OfferRefused, match="not available"):
        build_offer(Request(TOKEN), facts("US", 100_000), policy("US"))
    token = build_offer(Request(TOKEN), facts("UK", 100_000), policy("UK"))
    assert (token.total_minor, token.installments, token.interest, token.fees) == (300, 3, "frozen", "frozen")
    assert token.on_kept == "review"


def test_the_target_term_shortens_to_keep_the_minimum_installment() -> None:
    assert build_offer(Request(), facts("US", 120_000), policy("US")).installments == 6
    assert build_offer(Request(), facts("US", 10_000), policy("US")).installments == 4  # $100 at $25 minimum
    assert automatic_offer(facts("US", 5_000), policy("US")) is None  # $50 < 3 x $25: asked for in one payment


def test_affordability_sets_the_term_the_customer_can_keep() -> None:
    offer = build_offer(Request(), facts("US", 120_000, capacity_minor=15_000), policy("US"))
    assert offer.installments == 8  # $1,200 at $150 a month
    assert offer.affordable is True
    too_little = build_offer(Request(), facts("US", 120_000, capacity_minor=5_000), policy("US"))
    assert too_little.installments == 12  # the longest allowed, and it says it does not fit
    assert too_little.affordable is False


def test_each_offer_states_total_schedule_and_interest_and_fees() -> None:
    settlement = build_offer(Request(SETTLEMENT, discount_pct=Decimal(15)), facts("US", 100_001), policy("US"))
    assert settlement.discount_minor == 15_000  # rounded down: never more than the stated discount
    assert settlement.total_minor == 85_001
    assert (settlement.interest, settlement.fees, settlement.on_kept) == ("waived", "waived", "settle")
    suspended = build_offer(Request(INTEREST_SUSPENDED), facts("CN", 3_600_000, hardship=True), policy("CN"))
    assert (suspended.interest, suspended.fees, suspended.installments) == ("frozen", "frozen", 36)
    deferral = build_offer(Request(DEFERRAL, defer_days=45, months=3), facts("US", 90_000), policy("US"))
    assert deferral.first_due_date >= TODAY + timedelta(days=45)
    assert [d.amount_minor for d in deferral.schedule] == [30_000] * 3


def test_rounding_puts_the_odd_cents_on_the_first_installments() -> None:
    schedule = monthly_schedule(100_000, 3, date(2026, 4, 6), ())
    assert [d.amount_minor for d in schedule] == [33_334, 33_333, 33_333]


def test_due_dates_move_off_weekends_and_the_jurisdictions_holidays() -> None:
    cn = public_holidays("CN")
    # 2026-10-01..07: National Day; the first of October is a Thursday
    assert monthly_schedule(300, 1, date(2026, 10, 1), cn)[0].due_date == date(2026, 10, 8)
    us = public_holidays("US")
    assert monthly_schedule(300, 1, date(2026, 7, 4), us)[0].due_date == date(2026, 7, 6)  # Sat, observed Fri
    # The month is counted from the unmoved date: Jan 31 -> Feb 28 -> Mar 31, each moved on its own.
    dates = [d.due_date for d in monthly_schedule(300, 3, date(2026, 1, 31), ())]
    assert dates == [date(2026, 2, 2), date(2026, 3, 2), date(2026, 3, 31)]


# --- approvals ---------------------------------------------------------------------------------------------


def test_outside_the_bounds_needs_one_approver_with_the_reason() -> None:
    offer = build_offer(Request(INSTALLMENT, months=18), facts("US", 120_000), policy("US"))
    assert offer.outside_bounds == ("18 months is outside 3-12",)
    assert offer.approvals_needed == 1
    assert build_offer(Request(INSTALLMENT, months=18), facts("CN", 1_200_000), policy("CN")).approvals_needed == 0


def test_interest_suspension_without_hardship_needs_approval_in_cn_but_not_in_the_uk() -> None:
    cn = build_offer(Request(INTEREST_SUSPENDED), facts("CN", 1_200_000), policy("CN"))
    assert cn.outside_bounds == ("needs a hardship flag on the account",)
    assert build_offer(Request(INTEREST_SUSPENDED), facts("UK", 120_000), policy("UK")).approvals_needed == 0


def test_settlement_thresholds_one_then_two_approvers() -> None:
    us = policy("US")
    assert build_offer(Request(SETTLEMENT, discount_pct=Decimal(20)), facts("US", 100_000), us).approvals_needed == 0
    assert build_offer(Request(SETTLEMENT, discount_pct=Decimal(21)), facts("US", 100_000), us).approvals_needed == 1
    assert build_offer(Request(SETTLEMENT, discount_pct=Decimal(10)), facts("US", 600_000), us).approvals_needed == 1
    assert build_offer(Request(SETTLEMENT, discount_pct=Decimal(41)), facts("US", 100_000), us).approvals_needed == 2
    assert build_offer(Request(SETTLEMENT, discount_pct=Decimal(5)), facts("US", 2_000_001), us).approvals_needed == 2
    with pytest.raises(OfferRefused):
        build_offer(Request(SETTLEMENT, discount_pct=Decimal(100)), facts("US", 100_000), us)


def test_used_up_renegotiations_leave_nothing_automatic() -> None:
    assert automatic_offer(facts("US", 120_000, broken_plans=1), policy("US")) is not None  # the one re-negotiation
    assert automatic_offer(facts("US", 120_000, broken_plans=2), policy("US")) is None
    manual = build_offer(Request(), facts("US", 120_000, broken_plans=2), policy("US"))
    assert manual.approvals_needed == 1


# --- properties ---------------------------------------------------------------------------------------------

jurisdictions = st.sampled_from(sorted(CURRENCY))
requests = st.builds(
    Request,
    kind=st.sampled_from([INSTALLMENT, INTEREST_SUSPENDED, SETTLEMENT, DEFERRAL, DUE_DATE_CHANGE, TOKEN]),
    months=st.one_of(st.none(), st.integers(1, 72)),
    discount_pct=st.one_of(st.none(), st.decimals(0, 99, places=1)),
    defer_days=st.one_of(st.none(), st.integers(1, 120)),
    pay_on=st.one_of(st.none(), st.dates(TODAY + timedelta(days=1), TODAY + timedelta(days=60))),
)


@settings(max_examples=300, deadline=None)
@given(
    jurisdiction=jurisdictions,
    product=st.sampled_from(["credit_card", "personal_loan"]),
    balance=st.integers(1, 10**9),
    today=st.dates(date(2026, 1, 1), date(2030, 12, 31)),
    request=requests,
    hardship=st.booleans(),
    broken=st.integers(0, 3),
)
def test_every_offer_sums_exactly_avoids_holidays_and_is_in_bounds_or_flagged(
    jurisdiction: str, product: str, balance: int, today: date, request: Request, hardship: bool, broken: int
) -> None:
    bounds = policy(jurisdiction, product)
    account = facts(jurisdiction, balance, today, hardship=hardship, broken_plans=broken)
    try:
        offer = build_offer(request, account, bounds)
    except OfferRefused:
        return
    # Sums exactly, never over the balance, a settlement's discount included.
    assert sum(d.amount_minor for d in offer.schedule) == offer.total_minor
    assert offer.total_minor + offer.discount_minor <= balance
    assert all(d.amount_minor > 0 for d in offer.schedule)
    # Never on a weekend or a public holiday, strictly after today, in order.
    closed = public_holidays(CONFIG.policy(jurisdiction).holiday_country)
    dates = [d.due_date for d in offer.schedule]
    assert all(d.weekday() < 5 and d not in closed and d > today for d in dates)
    assert dates == sorted(set(dates))
    # Within the bounds, restated here independently, or flagged for a person.
    if offer.approvals_needed == 0:
        terms = bounds.terms(offer.kind)
        assert broken <= bounds.renegotiations
        if offer.kind in (INSTALLMENT, INTEREST_SUSPENDED):
            assert terms.min_months <= offer.installments <= terms.max_months  # type: ignore[attr-defined]
            assert min(d.amount_minor for d in offer.schedule) >= terms.min_installment.get(account.currency)  # type: ignore[attr-defined]
            assert hardship or not terms.requires_hardship  # type: ignore[attr-defined]
        if offer.kind == SETTLEMENT:
            assert offer.discount_pct <= bounds.approvals.settlement_discount_pct
            assert balance <= (bounds.approvals.settlement_balance.get(account.currency) or 0)
        if offer.kind == DEFERRAL:
            assert (offer.first_due_date - today).days <= terms.max_days + 10  # type: ignore[attr-defined]
        if offer.kind == DUE_DATE_CHANGE:
            assert (request.pay_on or today) <= today + timedelta(days=terms.max_shift_days)  # type: ignore[attr-defined]
    else:
        assert offer.outside_bounds or offer.kind == SETTLEMENT


@given(jurisdiction=jurisdictions, balance=st.integers(1, 10**9), capacity=st.integers(0, 10**7))
def test_the_cycles_offer_never_needs_approval(jurisdiction: str, balance: int, capacity: int) -> None:
    offer = automatic_offer(facts(jurisdiction, balance, capacity_minor=capacity or None), policy(jurisdiction))
    assert offer is None or (offer.approvals_needed == 0 and offer.kind == INSTALLMENT)


def test_the_menu_lists_every_kind_available_here() -> None:
    assert [o.kind for o in menu(facts("US", 120_000), policy("US"))] == [
        INSTALLMENT,
        INTEREST_SUSPENDED,
        SETTLEMENT,
        DEFERRAL,
        DUE_DATE_CHANGE,
    ]
    assert TOKEN in [o.kind for o in menu(facts("UK", 120_000), policy("UK"))]


# --- affordability -----------------------------------------------------------------------------------------


def test_capacity_is_what_is_left_after_expenses_and_an_allowance_per_dependant() -> None:
    rule = policy("US").affordability  # $400 per dependant, 80% of what is left
    assert capacity_to_pay(Statement(300_000, 150_000, 2), "USD", rule) == 56_000  # (3000-1500-800) x 0.8
    assert capacity_to_pay(Statement(100_000, 90_000, 1), "USD", rule) == 0  # nothing left, never negative
    with pytest.raises(ValueError, match="negative"):
        Statement(-1, 0, 0)
    with pytest.raises(ValueError, match="EUR"):
        capacity_to_pay(Statement(1, 0, 0), "EUR", rule)


@given(income=st.integers(0, 10**8), expenses=st.integers(0, 10**8), dependants=st.integers(0, 12))
def test_capacity_never_exceeds_what_is_left(income: int, expenses: int, dependants: int) -> None:
    capacity = capacity_to_pay(Statement(income, expenses, dependants), "CNY", policy("CN").affordability)
    assert 0 <= capacity <= max(0, income - expenses)


@given(day=st.dates(date(2000, 1, 1), date(2090, 12, 31)), months=st.integers(0, 120))
def test_add_months_clamps_month_ends_like_relativedelta(day: date, months: int) -> None:
    from dateutil.relativedelta import relativedelta

    assert add_months(day, months) == day + relativedelta(months=months)


@given(day=st.dates(date(2025, 1, 1), date(2030, 12, 31)))
def test_a_remembered_calendar_answers_as_the_holidays_package(day: date) -> None:
    holidays = public_holidays("CN")
    closed = ClosedDays(holidays)
    assert (day in closed) == (day in holidays) == (day in closed)
