"""Strategy conditions (flags, counts, bounds) and their validation; pauses and how they shift a cadence."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from overdue.config import ConfigError, load_configuration
from overdue.config.loader import load_model
from overdue.config.models import CadenceStep, Condition, StageRule, Strategy
from overdue.domain.cadence import anchor_for, step_due
from overdue.domain.pauses import Pause, effective_dpd, is_paused, paused_days, shifted_anchor
from overdue.domain.stages import AccountFacts, classify, matches, moved_back
from overdue.settings import PROJECT_ROOT

CONFIG = load_configuration(PROJECT_ROOT / "configs")


def facts(**changes: object) -> AccountFacts:
    base: dict[str, object] = {"stage": "reminder", "dpd": 40, "balance_minor": 60_000, "currency": "USD"}
    return AccountFacts(**(base | changes))  # type: ignore[arg-type]


def condition(**fields: object) -> Condition:
    return Condition.model_validate(fields)


def stage_rules(yaml_list: str) -> tuple[StageRule, ...]:
    return tuple(StageRule.model_validate(item) for item in yaml.safe_load(yaml_list))


# --- conditions -----------------------------------------------------------------------------------


def test_flags_and_not_flags_and_together_with_every_other_condition() -> None:
    hardship_only = condition(dpd_min=31, flags=["hardship"], not_flags=["dispute"])
    assert matches(hardship_only, facts(flags=frozenset({"hardship"})))
    assert matches(hardship_only, facts(flags=frozenset({"hardship", "vulnerable"})))
    assert not matches(hardship_only, facts(flags=frozenset()))  # a required flag is missing
    assert not matches(hardship_only, facts(flags=frozenset({"hardship", "dispute"})))  # an excluded one is set
    assert not matches(hardship_only, facts(dpd=30, flags=frozenset({"hardship"})))  # AND: dpd fails alone
    both = condition(flags=["hardship", "vulnerable"])
    assert not matches(both, facts(flags=frozenset({"hardship"})))
    assert matches(both, facts(flags=frozenset({"vulnerable", "hardship"})))


def test_count_and_balance_bounds_are_inclusive() -> None:
    broken = condition(broken_plans_min=1, broken_plans_max=2)
    assert [matches(broken, facts(broken_plans=n)) for n in range(4)] == [False, True, True, False]
    small = condition(balance_min={"USD": "100.00"}, balance_max={"USD": "500.00"})
    assert matches(small, facts(balance_minor=10_000))
    assert matches(small, facts(balance_minor=50_000))
    assert not matches(small, facts(balance_minor=50_001))
    assert not matches(small, facts(balance_minor=9_999))
    assert not matches(small, facts(currency="CNY", balance_minor=20_000))  # no bound for that currency: no match


def test_the_first_matching_stage_wins_with_flags() -> None:
    stages = stage_rules("- {name: forbearance, when: {flags: [hardship]}}")
    strategy = CONFIG.strategy.model_copy(update={"stages": (*stages, *CONFIG.strategy.stages)})
    assert classify(facts(flags=frozenset({"hardship"})), strategy) == "forbearance"
    assert classify(facts(), strategy) == "negotiation"


@pytest.mark.parametrize(
    ("when", "problem"),
    [
        ("{flags: [hardshp]}", "key 'stages.0.when.flags': Value error, unknown flag(s) hardshp (one of dispute,"),
        ("{dpd_min: 40, dpd_max: 30}", "key 'stages.0.when': Value error, dpd_min 40 is above dpd_max 30"),
        ("{flags: [dispute], not_flags: [dispute]}", "dispute in both flags and not_flags"),
        ("{broken_plans_min: 3, broken_plans_max: 1}", "broken_plans_min 3 is above broken_plans_max 1"),
        ("{broken_plans_min: -1}", "key 'stages.0.when.broken_plans_min': Input should be greater than or equal to 0"),
        ('{balance_min: {USD: "9.00"}, balance_max: {USD: "1.00"}}', "balance_min is above balance_max for USD"),
        ("{stage_in: [negociation]}", "stages.0.when.stage_in: unknown stage(s) negociation"),
    ],
)
def test_a_condition_no_account_can_meet_is_refused_naming_file_and_key(
    tmp_path: Path, when: str, problem: str
) -> None:
    path = tmp_path / "default.yaml"
    shutil.copy(PROJECT_ROOT / "configs" / "strategies" / "default.yaml", path)
    path.write_text(path.read_text().replace("when: {dpd_min: 31}", f"when: {when}", 1))
    with pytest.raises(ConfigError) as err:
        load_model(path, Strategy)
    assert str(err.value).startswith(f"{path}: ")
    assert problem in str(err.value)


def test_moving_to_a_less_severe_stage_is_moving_back() -> None:
    stages = stage_rules("- {name: forbearance, when: {flags: [hardship]}}")
    strategy = CONFIG.strategy.model_copy(update={"stages": (*stages, *CONFIG.strategy.stages)})
    assert moved_back(strategy, "forbearance", "reminder")
    assert moved_back(strategy, "negotiation", "reminder")
    assert not moved_back(strategy, "reminder", "negotiation")  # ageing: the natural anchor
    assert not moved_back(strategy, "current", "reminder")
    assert not moved_back(strategy, "plan", "negotiation")  # from a fact stage: negotiation counts from its entry


def test_only_the_flags_a_strategy_tests_are_loaded() -> None:
    assert CONFIG.strategy.flags_used == frozenset()
    stages = stage_rules("- {name: forbearance, when: {flags: [hardship], not_flags: [vulnerable]}}")
    strategy = CONFIG.strategy.model_copy(update={"stages": (*stages, *CONFIG.strategy.stages)})
    assert strategy.flags_used == {"hardship", "vulnerable"}


# --- pauses ---------------------------------------------------------------------------------------

D = date(2026, 3, 1)
STEPS = tuple(CadenceStep(id=f"s{day}", day=day, channel="sms", template="x") for day in (-3, 0, 2, 5, 9, 15, 21, 26))


def day(n: int) -> date:
    return D + timedelta(days=n)


def test_paused_days_count_each_day_once_and_only_before_the_day_asked() -> None:
    pauses = [Pause(day(3), day(5)), Pause(day(5), day(6)), Pause(day(20), None)]
    assert paused_days(pauses, day(0), day(3)) == 0
    assert paused_days(pauses, day(0), day(4)) == 1
    assert paused_days(pauses, day(0), day(10)) == 4  # 3, 4, 5, 6
    assert paused_days(pauses, day(5), day(10)) == 2
    assert paused_days(pauses, day(0), day(23)) == 7  # open-ended: 20, 21, 22 so far
    assert is_paused(pauses, day(6))
    assert not is_paused(pauses, day(7))
    assert effective_dpd(40, day(0), pauses, day(40)) == 40 - 4 - 20


def test_anchor_for_a_reanchor_applies_only_in_the_stage_it_was_set_in() -> None:
    assert anchor_for(day(0), None, day(-3)) == day(0)
    assert anchor_for(day(0), day(30), day(30)) == day(30)
    assert anchor_for(day(0), day(30), day(31)) == day(0)  # set in an earlier stage


def sent_steps(
    pauses: Sequence[Pause], anchor: date, last: int, known_on: dict[int, list[Pause]] | None = None
) -> list[tuple[str, date]]:
    """Day by day as the cycle does it: skip paused days, send the step due (catch-up 3) unless its key
    (step id, unshifted anchor) was sent before. `known_on` lets a back-dated pause appear on a later day."""
    sent: dict[str, date] = {}
    for n in range(-5, last + 1):
        today = anchor + timedelta(days=n)
        visible = list(pauses)
        if known_on is not None:
            visible = [p for k, ps in known_on.items() if anchor + timedelta(days=k) <= today for p in ps]
        if is_paused(visible, today):
            continue
        step = step_due(STEPS, shifted_anchor(anchor, STEPS, visible, today), today, 3)
        if step is not None and step.id not in sent:
            sent[step.id] = today
    return sorted(sent.items(), key=lambda item: item[1])


def test_after_a_pause_the_cadence_continues_where_it_stopped() -> None:
    sent = sent_steps([Pause(day(3), day(10))], D, 60)
    assert [step for step, _ in sent] == [s.id for s in STEPS]  # each once, in order, none skipped
    on = dict(sent)
    assert on["s2"] == day(2)  # before the pause: on time
    assert on["s5"] == day(5 + 8)  # fell in the pause: eight paused days later
    assert on["s26"] == day(26 + 8)


def test_a_back_dated_pause_repeats_nothing_already_sent_and_skips_nothing() -> None:
    """Paused on day 12 from day 3 to day 12: s5 and s9 already went; the rest shift by ten days."""
    sent = sent_steps([], D, 60, known_on={12: [Pause(day(3), day(12))]})
    assert [step for step, _ in sent] == [s.id for s in STEPS]
    on = dict(sent)
    assert (on["s5"], on["s9"]) == (day(5), day(9))
    assert on["s15"] == day(25)


@given(
    start=st.integers(min_value=-4, max_value=40),
    length=st.integers(min_value=1, max_value=60),
    second=st.integers(min_value=0, max_value=40),
)
def test_no_step_is_ever_skipped_or_sent_twice_around_pauses(start: int, length: int, second: int) -> None:
    pauses = [Pause(day(start), day(start + length - 1))]
    if second:
        pauses.append(Pause(day(start + length + second), day(start + length + second + 2)))
    sent = sent_steps(pauses, D, 200)
    assert [step for step, _ in sent] == [s.id for s in STEPS]
    assert not any(is_paused(pauses, when) for _, when in sent)
