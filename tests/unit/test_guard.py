"""The contact guard: each rule at its boundaries, and properties over generated histories showing it
never allows a contact the rules forbid."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from overdue.config import load_configuration
from overdue.domain.guard import Attempt, ContactFacts, Proposal, check_contact, only_window
from overdue.settings import PROJECT_ROOT

POLICIES = load_configuration(PROJECT_ROOT / "configs").policies
US, CN, UK = POLICIES["US"], POLICIES["CN"], POLICIES["UK"]
NY, SH = "America/New_York", "Asia/Shanghai"
CONSENTED = frozenset({"sms", "voice", "email", "letter"})


def local(zone: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def facts(zone: str = NY, **kwargs: object) -> ContactFacts:
    return ContactFacts(account_id=1, time_zone=zone, consented=CONSENTED, **kwargs)  # type: ignore[arg-type]


def calls(zone: str, *days: int, account_id: int = 1, hour: int = 10) -> tuple[Attempt, ...]:
    return tuple(Attempt(local(zone, 2026, 2, day, hour), "voice", account_id) for day in days)


# --- contact window -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "allowed"),
    [
        (local(NY, 2026, 2, 10, 7, 59), False),
        (local(NY, 2026, 2, 10, 8, 0), True),
        (local(NY, 2026, 2, 10, 20, 59), True),
        (local(NY, 2026, 2, 10, 21, 0), False),
        (local(NY, 2026, 3, 8, 8, 30), True),  # the morning clocks sprang forward
        (local(NY, 2026, 11, 1, 7, 30), False),  # the morning clocks fell back
    ],
)
def test_us_window_in_local_time_including_dst(when: datetime, allowed: bool) -> None:
    verdict = check_contact(Proposal("sms", when), facts(), US)
    assert verdict.allowed is allowed
    if not allowed:
        assert verdict.blocked_by == ("us.contact_window",)
        assert only_window(verdict, US)


def test_letters_are_not_bound_by_the_hour() -> None:
    assert check_contact(Proposal("letter", local(NY, 2026, 2, 10, 23, 0)), facts(), US).allowed


def test_cn_window_may_not_be_configured_past_22_00() -> None:
    from pydantic import ValidationError

    from overdue.config.models import WindowRule

    rule = CN.contact_window.model_dump() | {"end": "22:30"}
    with pytest.raises(ValidationError, match="legal ceiling"):
        WindowRule.model_validate(rule)


# --- call frequency -------------------------------------------------------------------------------


def test_us_seventh_call_in_seven_days_is_allowed_and_the_eighth_is_not() -> None:
    six = calls(NY, 3, 4, 5, 6, 7, 8)
    at = local(NY, 2026, 2, 9, 11, 0)
    assert check_contact(Proposal("voice", at), facts(attempts=six), US).allowed
    seven = calls(NY, 3, 4, 5, 6, 7, 8, 9)
    assert check_contact(Proposal("voice", local(NY, 2026, 2, 9, 15, 0)), facts(attempts=seven), US).blocked_by == (
        "us.call_frequency",
    )
    # The oldest call leaves the 7-day period the next day.
    assert check_contact(Proposal("voice", local(NY, 2026, 2, 10, 11, 0)), facts(attempts=seven), US).allowed


def test_us_frequency_counts_per_debt() -> None:
    other_debt = calls(NY, 3, 4, 5, 6, 7, 8, 9, account_id=2)
    assert check_contact(Proposal("voice", local(NY, 2026, 2, 9, 15, 0)), facts(attempts=other_debt), US).allowed


def test_cn_at_most_three_calls_per_debtor_per_day_across_accounts() -> None:
    morning = tuple(Attempt(local(SH, 2026, 2, 10, 9 + i), "voice", account_id=i) for i in range(3))
    at = local(SH, 2026, 2, 10, 16, 0)
    assert check_contact(Proposal("voice", at), facts(SH, attempts=morning[:2]), CN).allowed
    assert "cn.daily_calls" in check_contact(Proposal("voice", at), facts(SH, attempts=morning), CN).blocked_by
    next_day = local(SH, 2026, 2, 11, 9, 0)
    assert check_contact(Proposal("voice", next_day), facts(SH, attempts=morning), CN).allowed


def test_us_no_call_within_seven_days_after_a_conversation() -> None:
    spoke = local(NY, 2026, 2, 10, 19, 0)
    day7 = local(NY, 2026, 2, 16, 10, 0)
    day8 = local(NY, 2026, 2, 17, 10, 0)
    assert check_contact(Proposal("voice", day7), facts(last_conversation_at=spoke), US).blocked_by == (
        "us.after_conversation",
    )
    assert check_contact(Proposal("voice", day8), facts(last_conversation_at=spoke), US).allowed
    assert check_contact(Proposal("email", day7), facts(last_conversation_at=spoke), US).allowed


def test_channel_caps_per_day_and_week() -> None:
    sent = (Attempt(local(NY, 2026, 2, 10, 9), "sms", 2),)
    later = local(NY, 2026, 2, 10, 15)
    assert check_contact(Proposal("sms", later), facts(attempts=sent), US).blocked_by == ("us.channel_caps",)
    week = tuple(Attempt(local(NY, 2026, 2, d, 9), "sms", 1) for d in (4, 6, 8))
    assert check_contact(Proposal("sms", local(NY, 2026, 2, 10, 9)), facts(attempts=week), US).blocked_by == (
        "us.channel_caps",
    )
    assert check_contact(Proposal("sms", local(NY, 2026, 2, 11, 9)), facts(attempts=week), US).allowed


# --- consent, opt-out, holds, workplace, vulnerability, plans -------------------------------------

NOON = local(NY, 2026, 2, 10, 12, 0)


def test_opt_out_binds_except_the_one_confirmation() -> None:
    opted = facts(opted_out=frozenset({"sms"}))
    assert check_contact(Proposal("sms", NOON), opted, US).blocked_by == ("us.opt_out",)
    assert check_contact(Proposal("sms", NOON, purpose="optout_confirmation"), opted, US).allowed
    assert check_contact(Proposal("email", NOON), opted, US).allowed


def test_automated_texts_and_calls_need_consent() -> None:
    no_consent = ContactFacts(account_id=1, time_zone=NY)
    assert check_contact(Proposal("sms", NOON), no_consent, US).blocked_by == ("us.automated_consent",)
    assert check_contact(Proposal("voice", NOON, automated=False), no_consent, US).allowed
    assert check_contact(Proposal("email", NOON), no_consent, US).allowed


@pytest.mark.parametrize("kind", ["dispute", "cease", "attorney", "bankruptcy", "deceased", "hardship"])
def test_holds_stop_collection_but_not_notices(kind: str) -> None:
    held = facts(holds=frozenset({kind}))
    assert check_contact(Proposal("email", NOON), held, US).blocked_by == ("us.holds",)
    assert check_contact(Proposal("email", NOON, purpose="plan"), held, US).blocked_by == ("us.holds",)
    assert check_contact(Proposal("letter", NOON, purpose="verification"), held, US).allowed


def test_uk_breathing_space_is_a_hold() -> None:
    held = facts("Europe/London", holds=frozenset({"breathing_space"}))
    assert check_contact(Proposal("email", local("Europe/London", 2026, 2, 10, 12)), held, UK).blocked_by == (
        "uk.breathing_space",
    )


def test_workplace_contact_only_when_the_customer_said_so() -> None:
    assert check_contact(Proposal("voice", NOON), facts(workplace_address=True), US).blocked_by == ("us.workplace",)
    assert check_contact(Proposal("voice", NOON), facts(workplace_address=True, workplace_contact_ok=True), US).allowed


def test_vulnerable_customers_get_one_reminder_then_a_review() -> None:
    first = facts(vulnerable=True)
    assert check_contact(Proposal("email", NOON), first, US).allowed
    after_one = facts(vulnerable=True, collection_contacts=1)  # however long ago it was
    assert check_contact(Proposal("email", NOON), after_one, US).blocked_by == ("us.vulnerable_review",)
    reviewed = facts(vulnerable=True, vulnerability_reviewed=True, collection_contacts=1)
    assert check_contact(Proposal("email", NOON), reviewed, US).allowed


def test_cn_signed_plan_stops_collection_but_not_installment_reminders() -> None:
    on_plan = facts(SH, plan_active=True)
    noon = local(SH, 2026, 2, 10, 12)
    assert check_contact(Proposal("sms", noon), on_plan, CN).blocked_by == ("cn.plan_kept",)
    assert check_contact(Proposal("sms", noon, purpose="plan"), on_plan, CN).allowed


def test_every_blocking_rule_is_named() -> None:
    many = facts(opted_out=frozenset({"sms"}), holds=frozenset({"dispute"}))
    night = local(NY, 2026, 2, 10, 22, 0)
    assert set(check_contact(Proposal("sms", night), many, US).blocked_by) == {
        "us.contact_window",
        "us.opt_out",
        "us.holds",
    }


# --- validation notice (US) -----------------------------------------------------------------------


def test_us_collection_may_go_on_for_five_days_before_the_validation_notice_and_not_after() -> None:
    first = local(NY, 2026, 2, 10, 20, 30)
    day5 = local(NY, 2026, 2, 15, 20, 59)
    day6 = local(NY, 2026, 2, 16, 8, 0)
    assert check_contact(Proposal("sms", first), facts(), US).allowed  # the initial communication
    assert check_contact(Proposal("sms", day5), facts(first_collection_at=first), US).allowed
    assert check_contact(Proposal("sms", day6), facts(first_collection_at=first), US).blocked_by == (
        "us.validation_notice",
    )
    noticed = facts(first_collection_at=first, validation_sent_at=local(NY, 2026, 2, 11, 9, 0))
    assert check_contact(Proposal("sms", day6), noticed, US).allowed
    assert check_contact(Proposal("letter", day6, purpose="validation"), facts(first_collection_at=first), US).allowed


def test_the_validation_notice_is_a_us_rule_only() -> None:
    first = local(SH, 2026, 2, 1, 10, 0)
    assert check_contact(
        Proposal("sms", local(SH, 2026, 2, 20, 10, 0)), facts(SH, first_collection_at=first), CN
    ).allowed


def test_validation_period_counts_business_days_and_holidays_for_receipt() -> None:
    from datetime import date

    from overdue.domain.validation import presumed_receipt, public_holidays, validation_period_end

    rule = US.validation_notice
    assert rule is not None
    closed = public_holidays("US")
    # Sent Tuesday 2026-11-24: Thanksgiving (Thu 26) and the weekend are skipped -> received Wed 2 Dec.
    assert presumed_receipt(date(2026, 11, 24), rule, closed) == date(2026, 12, 2)
    assert validation_period_end(date(2026, 11, 24), rule, closed) == date(2027, 1, 1)
    # Sent on a Friday before Christmas: Mon 21, Tue 22, Wed 23, Thu 24, (Fri 25 Christmas), Mon 28.
    assert presumed_receipt(date(2026, 12, 18), rule, closed) == date(2026, 12, 28)
    # An ordinary week: Monday + 5 business days is the next Monday.
    assert presumed_receipt(date(2026, 2, 2), rule, closed) == date(2026, 2, 9)


# --- third parties --------------------------------------------------------------------------------


def test_cn_third_parties_only_to_locate_an_unreachable_debtor() -> None:
    at = local(SH, 2026, 2, 10, 10, 0)
    relative = Proposal("sms", at, purpose="locate", party="third_party")
    assert check_contact(relative, facts(SH, debtor_reachable=False), CN).allowed
    assert check_contact(relative, facts(SH, debtor_reachable=True), CN).blocked_by == ("cn.third_party",)
    collecting = Proposal("sms", at, party="third_party")
    assert check_contact(collecting, facts(SH, debtor_reachable=False), CN).blocked_by == ("cn.third_party",)
    assert check_contact(Proposal("sms", at, party="guarantor"), facts(SH), CN).allowed
    assert check_contact(Proposal("sms", at, purpose="locate"), facts(SH), CN).blocked_by == ("cn.third_party",)


def test_locating_stops_for_holds_plans_and_vulnerability_like_collection() -> None:
    at = local(SH, 2026, 2, 10, 10, 0)
    locate = Proposal("letter", at, purpose="locate", party="third_party")
    lost = facts(SH, debtor_reachable=False)
    assert check_contact(locate, replace(lost, holds=frozenset({"deceased"})), CN).blocked_by == ("cn.holds",)
    assert check_contact(locate, replace(lost, plan_active=True), CN).blocked_by == ("cn.plan_kept",)
    vulnerable = replace(lost, vulnerable=True, collection_contacts=1)
    assert check_contact(locate, vulnerable, CN).blocked_by == ("cn.vulnerable_review",)


# --- properties -----------------------------------------------------------------------------------

ZONES = st.sampled_from(["America/New_York", "America/Los_Angeles", "Asia/Shanghai", "Asia/Urumqi", "Pacific/Honolulu"])
CHANNELS = st.sampled_from(["sms", "email", "voice", "letter"])
INSTANTS = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31)).map(
    lambda d: d.replace(tzinfo=UTC)
)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Proposal, ContactFacts]:
    at = draw(INSTANTS)
    history = draw(
        st.lists(
            st.builds(
                Attempt,
                at=st.integers(min_value=1, max_value=14 * 24 * 60).map(lambda m: at - timedelta(minutes=m)),
                channel=CHANNELS,
                account_id=st.integers(min_value=1, max_value=3),
            ),
            max_size=12,
        )
    )
    spoke = draw(st.none() | st.integers(min_value=1, max_value=10 * 24 * 60).map(lambda m: at - timedelta(minutes=m)))
    around = st.none() | st.integers(min_value=-3 * 24 * 60, max_value=10 * 24 * 60).map(
        lambda m: at - timedelta(minutes=m)
    )
    return (
        Proposal(
            draw(CHANNELS),
            at,
            purpose=draw(st.sampled_from(["collection", "plan", "verification", "locate"])),
            party=draw(st.sampled_from(["debtor", "guarantor", "third_party"])),
        ),
        ContactFacts(
            account_id=1,
            time_zone=draw(ZONES),
            holds=frozenset(draw(st.sets(st.sampled_from(["dispute", "hardship", "cease", "none"]), max_size=2))),
            opted_out=frozenset(draw(st.sets(CHANNELS, max_size=2))),
            consented=frozenset(draw(st.sets(CHANNELS))),
            vulnerable=draw(st.booleans()),
            plan_active=draw(st.booleans()),
            workplace_address=draw(st.booleans()),
            attempts=tuple(history),
            last_conversation_at=spoke,
            first_collection_at=draw(around),
            validation_sent_at=draw(around),
            debtor_reachable=draw(st.booleans()),
        ),
    )


def local_day(instant: datetime, zone: str) -> object:
    return instant.astimezone(ZoneInfo(zone)).date()


@settings(max_examples=400, deadline=None)
@given(scenarios())
def test_us_guard_never_allows_a_forbidden_contact(scenario: tuple[Proposal, ContactFacts]) -> None:
    """An independent restatement of the rules: if any of them forbids the contact, the guard blocks it."""
    proposal, f = scenario
    if not check_contact(proposal, f, US).allowed:
        return
    zone = ZoneInfo(f.time_zone)
    clock = proposal.at.astimezone(zone)
    if proposal.channel != "letter":
        assert 8 <= clock.hour < 21
    assert proposal.channel not in f.opted_out
    assert not (proposal.channel in ("sms", "voice") and proposal.channel not in f.consented)
    assert not f.workplace_address
    if proposal.party == "third_party" or proposal.purpose == "locate":
        assert (proposal.party, proposal.purpose, f.debtor_reachable) == ("third_party", "locate", False)
    if proposal.purpose in ("collection", "plan", "locate"):
        assert not f.holds & {"dispute", "hardship", "cease"}
    if proposal.purpose in ("collection", "plan"):
        noticed = f.validation_sent_at is not None and f.validation_sent_at <= proposal.at
        first = f.first_collection_at
        if not noticed and first is not None and first <= proposal.at:
            assert (clock.date() - first.astimezone(zone).date()).days <= 5
    if proposal.channel == "voice" and proposal.purpose != "verification":
        today = clock.date()
        recent = [
            a
            for a in f.attempts
            if a.channel == "voice" and a.account_id == 1 and 0 <= (today - a.at.astimezone(zone).date()).days < 7
        ]
        assert len(recent) < 7
        if f.last_conversation_at is not None:
            assert (today - f.last_conversation_at.astimezone(zone).date()).days >= 7


@settings(max_examples=400, deadline=None)
@given(scenarios())
def test_cn_guard_never_allows_a_fourth_call_a_day_or_collection_on_a_kept_plan(
    scenario: tuple[Proposal, ContactFacts],
) -> None:
    proposal, f = scenario
    if not check_contact(proposal, f, CN).allowed:
        return
    zone = ZoneInfo(f.time_zone)
    assert 8 <= proposal.at.astimezone(zone).hour < 21 or proposal.channel == "letter"
    if proposal.channel == "voice" and proposal.purpose != "verification":
        today = proposal.at.astimezone(zone).date()
        assert sum(1 for a in f.attempts if a.channel == "voice" and a.at.astimezone(zone).date() == today) < 3
    if f.plan_active:
        assert proposal.purpose not in ("collection", "locate")
    if proposal.party == "third_party":  # relatives only to find a debtor who cannot be reached
        assert proposal.purpose == "locate"
        assert not f.debtor_reachable


@given(scenarios())
def test_the_guard_is_deterministic(scenario: tuple[Proposal, ContactFacts]) -> None:
    proposal, f = scenario
    assert check_contact(proposal, f, US) == check_contact(proposal, f, US)
