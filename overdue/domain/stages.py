"""Which stage an account belongs in: facts first, then the strategy's ordered conditions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from overdue.config.models import Condition, Strategy

CLOSED, CURRENT, REMINDER, NEGOTIATION, PLAN, LEGAL = "closed", "current", "reminder", "negotiation", "plan", "legal"
ESCALABLE = (NEGOTIATION, REMINDER)  # stages from which a person may approve legal escalation


@dataclass(frozen=True, slots=True)
class AccountFacts:
    """What stage rules may look at, loaded in bulk for a shard of accounts."""

    stage: str
    dpd: int
    balance_minor: int
    currency: str
    broken_plans: int = 0
    has_active_plan: bool = False
    flags: frozenset[str] = frozenset()  # overdue/domain/flags.py; loaded only when a condition tests one


def days_past_due(due_date: date, as_of: date) -> int:
    return (as_of - due_date).days


def matches(condition: Condition, facts: AccountFacts) -> bool:
    """Every stated condition holds (AND). A balance bound without a figure for the account's currency
    fails: a threshold nobody set for that money is not met by default."""
    if condition.dpd_min is not None and facts.dpd < condition.dpd_min:
        return False
    if condition.dpd_max is not None and facts.dpd > condition.dpd_max:
        return False
    if condition.broken_plans_min is not None and facts.broken_plans < condition.broken_plans_min:
        return False
    if condition.broken_plans_max is not None and facts.broken_plans > condition.broken_plans_max:
        return False
    if condition.stage_in is not None and facts.stage not in condition.stage_in:
        return False
    if condition.balance_min is not None:
        threshold = condition.balance_min.get(facts.currency)
        if threshold is None or facts.balance_minor < threshold:
            return False
    if condition.balance_max is not None:
        ceiling = condition.balance_max.get(facts.currency)
        if ceiling is None or facts.balance_minor > ceiling:
            return False
    if condition.flags and not facts.flags.issuperset(condition.flags):
        return False
    return not (condition.not_flags and not facts.flags.isdisjoint(condition.not_flags))


def classify(facts: AccountFacts, strategy: Strategy) -> str:
    """Nothing owed closes; legal and an active plan are sticky; otherwise the first matching stage wins."""
    if facts.balance_minor <= 0:
        return CLOSED
    if facts.stage == LEGAL:
        return LEGAL
    if facts.has_active_plan:
        return PLAN
    for rule in strategy.stages:
        if matches(rule.when, facts):
            return rule.name
    return CURRENT


def moved_back(strategy: Strategy, previous: str, new: str) -> bool:
    """True when an account moves to a less severe stage of the strategy (listed after the one it leaves, the
    list being worst first): a hold lifted, a balance fallen below a threshold. That stage's cadence then
    restarts on the day of the move, since the steps of its natural anchor (the due date, for reminders) may
    all be past and none would come. Ageing into a worse stage keeps the natural anchor."""
    order = [rule.name for rule in strategy.stages]
    return previous in order and new in order and order.index(new) > order.index(previous)
