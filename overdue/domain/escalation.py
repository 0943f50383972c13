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
