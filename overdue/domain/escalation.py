"""Legal escalation criteria: which rule (if any) says an account should go to a person for approval."""

from __future__ import annotations

from datetime import date
from functools import cache

from dateutil.relativedelta import relativedelta

from overdue.config.models import Escalation
from overdue.domain.stages import AccountFacts, matches


def escalation_rule(facts: AccountFacts, escalation: Escalation) -> str | None:
    for rule in escalation.rules:
        if matches(rule.when, facts):
            return rule.name
    return None


@cache  # the cycle asks for every message; a portfolio has a few hundred distinct due dates
def time_barred_on(delinquent_since: date, years: int) -> date:
    """The first day the debt is past the limitation period, counted from the first missed due date
    (the conservative reading: a payment may restart the clock in some places, never shortens it here)."""
    return delinquent_since + relativedelta(years=years)


def is_time_barred(delinquent_since: date, today: date, years: int) -> bool:
    return today >= time_barred_on(delinquent_since, years)


def approvals_needed(escalation: Escalation, balance_minor: int, currency: str) -> int:
    """Two different people approve legal action from the configured balance on; one below it."""
    threshold = escalation.two_approvers_from.get(currency) if escalation.two_approvers_from else None
    return 2 if threshold is not None and balance_minor >= threshold else 1
