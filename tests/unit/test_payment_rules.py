"""Payment rules, pure: allocation and its reversal never create or lose a cent, allocation orders per
jurisdiction, product and days past due, and the accrual arithmetic with its caps and freezes."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from overdue.config import ConfigError, load_configuration
from overdue.config.loader import load_model
from overdue.config.models import AccrualTerms, Amounts, Policy
from overdue.domain.accrual import accrue, capped, daily_interest, late_fees_reached
from overdue.domain.allocation import Allocation, Balances
from overdue.settings import PROJECT_ROOT

CONFIG = load_configuration(PROJECT_ROOT / "configs")
ORDERS = st.permutations(["fees", "interest", "principal"])
AMOUNTS = st.integers(min_value=0, max_value=10**9)


@given(
    start=st.builds(Balances, AMOUNTS, AMOUNTS, AMOUNTS, AMOUNTS),
    steps=st.lists(st.tuples(st.integers(min_value=1, max_value=10**9), ORDERS, st.booleans()), max_size=12),
    reverse_picks=st.lists(st.integers(min_value=0, max_value=11), max_size=12),
)
def test_payments_and_reversals_never_create_or_lose_a_cent(
    start: Balances, steps: list[tuple[int, list[str], bool]], reverse_picks: list[int]
) -> None:
    """Whatever the order of payments and of reversals of earlier ones (each at most once), what the account
    owes less its credit moves by exactly the money that stayed paid, and nothing goes below zero."""
    balances = start
    paid: list[tuple[int, Allocation]] = []
    reversed_: set[int] = set()
    for (amount, order, reverse_now), pick in zip(steps, reverse_picks + [0] * len(steps), strict=False):
        before = balances
        balances, split = balances.pay(amount, order)
        assert balances.net == before.net - amount
        assert sum(split.parts.values()) + split.unapplied_minor == amount
        paid.append((amount, split))
        if reverse_now and pick < len(paid) and pick not in reversed_:
            before = balances
            balances = balances.reverse(paid[pick][1])
            assert balances.net == before.net + paid[pick][0]
            reversed_.add(pick)
        assert min(balances.fees, balances.interest, balances.principal, balances.credit) >= 0
    kept = sum(amount for index, (amount, _) in enumerate(paid) if index not in reversed_)
    assert balances.net == start.net - kept


@given(start=st.builds(Balances, AMOUNTS, AMOUNTS, AMOUNTS, AMOUNTS), amount=AMOUNTS, order=ORDERS)
def test_a_reversal_right_after_its_payment_puts_every_component_back(
    start: Balances, amount: int, order: list[str]
) -> None:
    paid, split = start.pay(amount, order)
    assert paid.reverse(split) == start


def test_an_overpayment_becomes_credit_and_its_reversal_takes_the_credit_back() -> None:
    paid, split = Balances(fees=500, interest=1_000, principal=10_000).pay(12_000, ["fees", "interest", "principal"])
    assert (paid.owed, paid.credit, split.unapplied_minor) == (0, 500, 500)
    assert paid.reverse(split) == Balances(fees=500, interest=1_000, principal=10_000)
    with pytest.raises(ValueError, match="credit"):
        Balances(0, 0, 0, credit=100).reverse(split)


# --- allocation orders --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("jurisdiction", "product", "dpd", "first"),
    [
        ("CN", "credit_card", 1, "interest"),
        ("CN", "credit_card", 90, "interest"),
        ("CN", "credit_card", 91, "principal"),
        ("CN", "personal_loan", 200, "principal"),
        ("US", "credit_card", 200, "fees"),
        ("UK", "personal_loan", 10, "fees"),
    ],
)
def test_the_policy_orders_allocation_by_product_and_days_past_due(
    jurisdiction: str, product: str, dpd: int, first: str
) -> None:
    assert CONFIG.policy(jurisdiction).allocation_order(product, dpd)[0] == first


def test_allocation_rules_for_one_product_come_before_the_fallback(tmp_path: Path) -> None:
    policy = CONFIG.policy("US").model_copy(deep=True)
    data = policy.model_dump(mode="json") | {
        "allocation": [
            {"products": ["auto_loan"], "dpd_min": 61, "order": ["principal", "fees", "interest"]},
            {"order": ["fees", "interest", "principal"]},
        ]
    }
    custom = Policy.model_validate(data)
    assert custom.allocation_order("auto_loan", 61) == ("principal", "fees", "interest")
    assert custom.allocation_order("auto_loan", 60) == ("fees", "interest", "principal")
    assert custom.allocation_order("credit_card", 100) == ("fees", "interest", "principal")


def test_a_policy_without_a_fallback_allocation_is_refused_naming_file_and_key(tmp_path: Path) -> None:
    source = (PROJECT_ROOT / "configs" / "policies" / "CN.yaml").read_text(encoding="utf-8")
    broken = source.replace("  - {order: [principal, interest, fees]}\n", "")
    assert broken != source
    path = tmp_path / "CN.yaml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"CN\.yaml: key 'allocation': .*last rule must have no products"):
        load_model(path, Policy)


# --- accrual --------------------------------------------------------------------------------------


def test_a_late_fee_falls_on_day_one_and_every_period_after() -> None:
    assert [late_fees_reached(d, 30) for d in (-5, 0, 1, 30, 31, 60, 61)] == [0, 0, 1, 1, 2, 2, 3]


def test_daily_interest_is_simple_on_principal_and_rounded_down() -> None:
    assert daily_interest(100_000, 182_500) == 50  # 0.05% a day: CN's 18.25% a year
    assert daily_interest(99_999, 182_500) == 49


TERMS = AccrualTerms(
    interest_rate_annual=Decimal("0.1825"),
    interest_cap_share=Decimal("0.24"),
    late_fee=Amounts.model_validate({"CNY": "50.00"}),
    fees_cap=Amounts.model_validate({"CNY": "120.00"}),
)


def test_accrual_stops_at_the_caps_and_never_lowers_a_balance_above_them() -> None:
    grown = accrue(100_000, 0, 0, "CNY", 0, 600, TERMS, frozen=False)  # 50 a day would be 30,000
    assert (grown.interest_minor, grown.fees_minor) == (24_000, 12_000)  # 24% of principal; the fees cap
    above = accrue(100_000, 30_000, 20_000, "CNY", 10, 40, TERMS, frozen=False)
    assert (above.interest_minor, above.fees_minor) == (30_000, 20_000)
    assert capped(100, 50, None) == 150


def test_nothing_accrues_when_frozen_before_the_due_date_or_without_terms() -> None:
    assert accrue(100_000, 7, 3, "CNY", 0, 30, TERMS, frozen=True).interest_minor == 7
    assert accrue(100_000, 7, 3, "CNY", -10, 0, TERMS, frozen=False).interest_minor == 7
    assert accrue(100_000, 7, 3, "CNY", 0, 30, None, frozen=False).fees_minor == 3


@given(
    principal=st.integers(min_value=0, max_value=10**10),
    interest=st.integers(min_value=0, max_value=10**8),
    fees=st.integers(min_value=0, max_value=10**6),
    days=st.lists(st.integers(min_value=-40, max_value=400), min_size=3, max_size=3),
)
def test_accruing_day_by_day_or_all_at_once_comes_to_the_same(
    principal: int, interest: int, fees: int, days: list[int]
) -> None:
    """A missed cycle is caught up on the next without a cent of difference."""
    first, middle, last = sorted(days)
    once = accrue(principal, interest, fees, "CNY", first, last, TERMS, frozen=False)
    step = accrue(principal, interest, fees, "CNY", first, middle, TERMS, frozen=False)
    twice = accrue(principal, step.interest_minor, step.fees_minor, "CNY", middle, last, TERMS, frozen=False)
    assert once == twice
