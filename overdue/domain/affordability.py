"""What a customer can afford to pay each month, from what they told us. Pure.

    capacity = floor((income - expenses - dependants x allowance_per_dependant) x disposable_share_pct / 100)

never below zero. `expenses` are the household's stated essential outgoings; the allowance per dependant
covers what people forget to state (food, school) so a large family is never asked for its last cent;
the share keeps a margin for the unexpected, so a plan built on the figure can be kept (FCA CONC 7.3.4:
repayments must be affordable and sustainable). All amounts are monthly, in minor units.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from overdue.config.offer_policy import Affordability


@dataclass(frozen=True, slots=True)
class Statement:
    income_minor: int
    expenses_minor: int
    dependants: int

    def __post_init__(self) -> None:
        if self.income_minor < 0 or self.expenses_minor < 0 or self.dependants < 0:
            raise ValueError("income, expenses and dependants cannot be negative")


def capacity_to_pay(statement: Statement, currency: str, rule: Affordability) -> int:
    allowance = rule.allowance_per_dependant.get(currency)
    if allowance is None:
        raise ValueError(f"no allowance_per_dependant for {currency} in configs/offers.yaml")
    disposable = statement.income_minor - statement.expenses_minor - statement.dependants * allowance
    if disposable <= 0:
        return 0
    share = Decimal(disposable) * rule.disposable_share_pct / 100
    return int(share.to_integral_value(rounding=ROUND_FLOOR))
