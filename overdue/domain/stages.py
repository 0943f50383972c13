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


def days_past_due(due_date: date, as_of: date) -> int:
    return (as_of - due_date).days


def matches(condition: Condition, facts: AccountFacts) -> bool:
    if condition.dpd_min is not None and facts.dpd < condition.dpd_min:
        return False
    if condition.dpd_max is not None and facts.dpd > condition.dpd_max:
        return False
    if condition.broken_plans_min is not None and facts.broken_plans < condition.broken_plans_min:
        return False
    if condition.stage_in is not None and facts.stage not in condition.stage_in:
        return False
    if condition.balance_min is not None:
        threshold = condition.balance_min.get(facts.currency)
        if threshold is None or facts.balance_minor < threshold:
            return False
    return True


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
