"""A strategy condition (overdue/domain/stages.py `matches`) as a SQL predicate over the account table, so a
step can ask the database for the few accounts a rule could select instead of reading every account.

Flags (holds, vulnerability...) are not account columns: the predicate leaves them out, so it selects a
superset of the accounts that match, and the caller still asks the domain about each row it gets back.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from overdue.config.models import Amounts, Condition
from overdue.store.tables import Account

BALANCE = col(Account.principal_minor) + col(Account.interest_minor) + col(Account.fees_minor)


def condition_clause(when: Condition, dpd: Any, *, dpd_upper_bound: bool = True) -> sa.ColumnElement[bool]:
    """`dpd`: the expression for the account's days past due. A caller whose days may count fewer than that
    expression (a pause does not count) sets `dpd_upper_bound=False`: the lower bound alone is still a
    superset, the upper one would wrongly exclude a paused account."""
    parts: list[sa.ColumnElement[bool]] = []
    if when.dpd_min is not None:
        parts.append(dpd >= when.dpd_min)
    if when.dpd_max is not None and dpd_upper_bound:
        parts.append(dpd <= when.dpd_max)
    if when.broken_plans_min is not None:
        parts.append(col(Account.broken_plans) >= when.broken_plans_min)
    if when.broken_plans_max is not None:
        parts.append(col(Account.broken_plans) <= when.broken_plans_max)
    if when.stage_in is not None:
        parts.append(col(Account.stage).in_(when.stage_in))
    if when.balance_min is not None:
        parts.append(_per_currency(when.balance_min, operator.ge))
    if when.balance_max is not None:
        parts.append(_per_currency(when.balance_max, operator.le))
    return sa.and_(sa.true(), *parts)


def any_condition(conditions: list[Condition], dpd: Any, *, dpd_upper_bound: bool = True) -> sa.ColumnElement[bool]:
    return sa.or_(sa.false(), *(condition_clause(when, dpd, dpd_upper_bound=dpd_upper_bound) for when in conditions))


def _per_currency(amounts: Amounts, compare: Callable[[Any, int], Any]) -> sa.ColumnElement[bool]:
    """BALANCE `compare` the bound of the account's currency; a currency without a bound fails, as in the domain."""
    currency = col(Account.currency)
    return sa.or_(
        sa.false(), *(sa.and_(currency == code, compare(BALANCE, bound)) for code, bound in amounts.minor.items())
    )
