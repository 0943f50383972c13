"""Legal escalation criteria: which rule (if any) says an account should go to a person for approval."""

from __future__ import annotations

from overdue.config.models import Escalation
from overdue.domain.stages import AccountFacts, matches


def escalation_rule(facts: AccountFacts, escalation: Escalation) -> str | None:
    for rule in escalation.rules:
        if matches(rule.when, facts):
            return rule.name
    return None
