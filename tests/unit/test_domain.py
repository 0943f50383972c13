"""Domain rules, pure and fast: money, stages, cadence, contact windows, plans, allocation (offers: test_offers)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from overdue.config import load_configuration
from overdue.config.models import ContactWindow
from overdue.domain.allocation import allocate
from overdue.domain.cadence import next_step_date, step_due
from overdue.domain.contact_window import in_window, next_window_opening, planned_send_at
from overdue.domain.escalation import escalation_rule
from overdue.domain.masking import mask_address, mask_tail
from overdue.domain.money import format_money, split_evenly, to_minor
from overdue.domain.plans import ACTIVE, BROKEN, KEPT, InstallmentState, apply_to_installments, plan_status
from overdue.domain.stages import AccountFacts, classify
from overdue.settings import PROJECT_ROOT, normalize_database_url

CONFIG = load_configuration(PROJECT_ROOT / "configs")
STRATEGY = CONFIG.strategy
WINDOW = ContactWindow(start=time(8), end=time(21))


# --- money ----------------------------------------------------------------------------------------


def test_to_minor_parses_major_units_and_refuses_extra_precision() -> None:
    assert to_minor("12.34", "USD") == 1234
    assert to_minor("100", "JPY") == 100
    with pytest.raises(ValueError, match="more decimals"):
        to_minor("1.001", "USD")
    with pytest.raises(ValueError, match="not an amount"):
        to_minor("12,34", "USD")


def test_format_money_follows_locale() -> None:
    assert format_money(123450, "USD", "en-US") == "$1,234.50"
    assert format_money(123450, "CNY", "zh-CN") == "¥1,234.50"


@given(total=st.integers(min_value=0, max_value=10**12), parts=st.integers(min_value=1, max_value=600))
def test_split_evenly_sums_exactly_and_differs_by_at_most_one_cent(total: int, parts: int) -> None:
    amounts = split_evenly(total, parts)
    assert sum(amounts) == total
    assert len(amounts) == parts
    assert max(amounts) - min(amounts) <= 1


@given(
    amount=st.integers(min_value=0, max_value=10**9),
    fees=st.integers(min_value=0, max_value=10**8),
    interest=st.integers(min_value=0, max_value=10**8),
    principal=st.integers(min_value=0, max_value=10**9),
    order=st.permutations(["fees", "interest", "principal"]),
)
def test_allocation_never_creates_or_loses_a_cent(
    amount: int, fees: int, interest: int, principal: int, order: list[str]
) -> None:
    owed = {"fees": fees, "interest": interest, "principal": principal}
    result = allocate(amount, owed, order)
    assert sum(result.parts.values()) + result.unapplied_minor == amount
    assert all(0 <= result.parts[k] <= owed[k] for k in owed)
    assert result.unapplied_minor == max(0, amount - sum(owed.values()))


def test_allocation_follows_the_policy_order() -> None:
    owed = {"fees": 500, "interest": 1000, "principal": 10_000}
    assert allocate(1200, owed, ["fees", "interest", "principal"]).parts == {
        "fees": 500,
        "interest": 700,
        "principal": 0,
    }
    assert allocate(1200, owed, ["principal", "interest", "fees"]).parts == {
        "principal": 1200,
        "interest": 0,
        "fees": 0,
    }


# --- stages ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (AccountFacts("current", -10, 1000, "USD"), "current"),
        (AccountFacts("current", -3, 1000, "USD"), "reminder"),
        (AccountFacts("current", 30, 1000, "USD"), "reminder"),
        (AccountFacts("reminder", 31, 1000, "USD"), "negotiation"),
        (AccountFacts("negotiation", 200, 1000, "USD", has_active_plan=True), "plan"),
        (AccountFacts("legal", 200, 1000, "USD"), "legal"),
        (AccountFacts("legal", 200, 0, "USD"), "closed"),
        (AccountFacts("plan", 40, 1000, "USD", broken_plans=1), "negotiation"),
    ],
)
def test_classify_facts_first_then_first_matching_stage(facts: AccountFacts, expected: str) -> None:
    assert classify(facts, STRATEGY) == expected


def test_escalation_needs_every_condition_of_a_rule() -> None:
    rules = STRATEGY.escalation
    assert escalation_rule(AccountFacts("negotiation", 91, 50_000, "USD"), rules) == "long_delinquent"
    assert escalation_rule(AccountFacts("negotiation", 90, 50_000, "USD"), rules) is None
    assert escalation_rule(AccountFacts("negotiation", 91, 49_999, "USD"), rules) is None
    assert escalation_rule(AccountFacts("negotiation", 40, 300_000, "CNY", broken_plans=1), rules) is None
    assert escalation_rule(AccountFacts("reminder", 5, 100, "CNY", broken_plans=2), rules) == "renegotiation_exhausted"
    assert escalation_rule(AccountFacts("plan", 120, 10**7, "USD"), rules) is None
    assert escalation_rule(AccountFacts("negotiation", 120, 10**7, "EUR"), rules) is None  # no threshold: never


# --- cadence --------------------------------------------------------------------------------------

REMINDER_STEPS = STRATEGY.cadence["reminder"]
DUE = date(2026, 3, 10)


def test_step_due_picks_the_latest_step_that_has_come() -> None:
    assert step_due(REMINDER_STEPS, DUE, date(2026, 3, 6), 3) is None
    pre_due = step_due(REMINDER_STEPS, DUE, date(2026, 3, 7), 3)
    assert pre_due is not None
    assert pre_due.id == "pre_due_sms"
    step = step_due(REMINDER_STEPS, DUE, date(2026, 3, 12), 3)
    assert step is not None
    assert step.id == "early_sms"


def test_a_step_older_than_catch_up_is_skipped_not_piled_up() -> None:
    # Imported at 20 days past due: the day-15 step is 5 days stale, so nothing is sent until day 21.
    assert step_due(REMINDER_STEPS, DUE, date(2026, 3, 30), 3) is None
    assert next_step_date(REMINDER_STEPS, DUE, date(2026, 3, 30)) == date(2026, 3, 31)


def test_next_step_date_is_none_after_the_last_step() -> None:
    assert next_step_date(REMINDER_STEPS, DUE, date(2026, 6, 1)) is None


# --- contact window -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("utc", "zone", "allowed"),
    [
        (datetime(2026, 2, 10, 1, 59, tzinfo=UTC), "America/New_York", True),  # 20:59 local (EST)
        (datetime(2026, 2, 10, 2, 0, tzinfo=UTC), "America/New_York", False),  # 21:00 local
        (datetime(2026, 2, 10, 12, 59, tzinfo=UTC), "America/New_York", False),  # 07:59 local
        (datetime(2026, 2, 10, 13, 0, tzinfo=UTC), "America/New_York", True),  # 08:00 local
        (datetime(2026, 3, 10, 0, 0, tzinfo=UTC), "Asia/Shanghai", True),  # 08:00 local
        (datetime(2026, 3, 9, 23, 59, tzinfo=UTC), "Asia/Shanghai", False),  # 07:59 local
        (datetime(2026, 3, 9, 13, 0, tzinfo=UTC), "Asia/Shanghai", False),  # 21:00 local
    ],
)
def test_contact_window_boundaries_in_local_time(utc: datetime, zone: str, allowed: bool) -> None:
    assert in_window(utc, zone, WINDOW) is allowed


def test_window_follows_daylight_saving_changes() -> None:
    # US DST began 2026-03-08: 08:00 in New York is 13:00 UTC before and 12:00 UTC after.
    assert planned_send_at(date(2026, 3, 7), time(8), "America/New_York", WINDOW).hour == 13
    assert planned_send_at(date(2026, 3, 9), time(8), "America/New_York", WINDOW).hour == 12
    assert in_window(datetime(2026, 3, 9, 12, 0, tzinfo=UTC), "America/New_York", WINDOW)
    assert not in_window(datetime(2026, 3, 6, 12, 0, tzinfo=UTC), "America/New_York", WINDOW)


def test_planned_send_time_is_moved_into_the_window() -> None:
    early = planned_send_at(date(2026, 3, 10), time(6), "Asia/Shanghai", WINDOW)
    assert early == datetime(2026, 3, 10, 0, 0, tzinfo=UTC)  # 08:00 Shanghai
    late = planned_send_at(date(2026, 3, 10), time(22), "Asia/Shanghai", WINDOW)
    assert late == datetime(2026, 3, 11, 0, 0, tzinfo=UTC)  # next morning 08:00


@given(st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31)))
def test_next_window_opening_is_always_inside_the_window(naive: datetime) -> None:
    instant = naive.replace(tzinfo=UTC)
    for zone in ("America/Los_Angeles", "America/New_York", "Asia/Shanghai", "Pacific/Auckland"):
        opening = next_window_opening(instant, zone, WINDOW)
        assert opening >= instant
        assert in_window(opening, zone, WINDOW)
        assert (opening - instant).total_seconds() <= 24 * 3600


# --- offers and plans -----------------------------------------------------------------------------


def schedule(*paid: int) -> list[InstallmentState]:
    return [InstallmentState(i + 1, date(2026, 4 + i, 1), 1000, p) for i, p in enumerate(paid)]


def test_plan_is_broken_only_after_grace_days() -> None:
    oldest_unpaid = date(2026, 4, 1)
    assert plan_status(oldest_unpaid, date(2026, 4, 6), grace_days=5) == ACTIVE
    assert plan_status(oldest_unpaid, date(2026, 4, 7), grace_days=5) == BROKEN


def test_plan_is_kept_when_every_installment_is_paid() -> None:
    assert plan_status(None, date(2026, 9, 1), grace_days=5) == KEPT


def test_payments_fill_the_oldest_installment_first() -> None:
    paid = apply_to_installments(schedule(600, 0, 0), 1700)
    assert [i.paid_minor for i in paid] == [1000, 1000, 300]


# --- small things ---------------------------------------------------------------------------------


def test_masking_hides_personal_data() -> None:
    assert mask_tail("6222021234567890") == "****7890"
    assert "0123" not in mask_address("+12125550123", "sms")
    assert mask_address("jane.doe@example.com", "email") == "j***@example.com"


def test_database_urls_are_accepted_as_people_write_them() -> None:
    assert normalize_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_shipped_configuration_loads() -> None:
    assert set(CONFIG.policies) >= {"US", "CN"}
    assert isinstance(CONFIG.templates_dir, Path)


def test_time_bar_counts_years_from_the_first_missed_due_date() -> None:
    from overdue.domain.escalation import is_time_barred, time_barred_on

    assert time_barred_on(date(2023, 2, 28), 3) == date(2026, 2, 28)
    assert not is_time_barred(date(2023, 3, 10), date(2026, 3, 9), 3)
    assert is_time_barred(date(2023, 3, 10), date(2026, 3, 10), 3)
    assert {p.time_bar.years for p in CONFIG.policies.values()} == {3, 6}
