"""Interest and fees accrue on delinquent accounts once a day: one UPDATE per shard, whatever its size.

The statement is the arithmetic of overdue/domain/accrual.py written as SQL CASE expressions, one branch per
jurisdiction and product terms (and currency, for fees), so a million accounts never pass through Python.
Each account remembers the day it has accrued to (`accrued_through`): a rerun of the day adds nothing, and a
missed day is caught up on the next. Frozen days (a hardship or breathing-space hold, an active plan) are
skipped, not deferred: the day advances with nothing added.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from overdue.config import Configuration
from overdue.config.models import Accrual, AccrualTerms
from overdue.domain.accrual import DAYS_PER_YEAR, PPM
from overdue.domain.stages import CLOSED
from overdue.store.tables import Account, Customer, Hold, Offer, PaymentPlan

Expr = Any  # SQL expressions and mapped columns alike


def accrue(session: Session, config: Configuration, as_of: date, shard: tuple[int, int]) -> int:
    """Accrue every delinquent account of the shard up to `as_of`; returns how many accounts moved to it."""
    days_to = _days(session, sa.literal(as_of, sa.Date), col(Account.due_date))
    start = sa.func.coalesce(col(Account.accrued_through), sa.literal(as_of - timedelta(days=1), sa.Date))
    days_from = _days(session, start, col(Account.due_date))
    days_from = sa.case((days_from < 0, 0), else_=days_from)
    policies = config.policies.items()
    frozen = sa.or_(
        sa.false(),
        *(sa.and_(col(Customer.jurisdiction) == name, _freezes(policy.accrual, as_of)) for name, policy in policies),
    )
    interest: list[tuple[Any, Any]] = [(frozen, col(Account.interest_minor))]
    fees: list[tuple[Any, Any]] = [(frozen, col(Account.fees_minor))]
    for name, policy in policies:
        for terms in policy.accrual.terms:
            applies = _applies(name, terms)
            interest.append((applies, _interest(terms, days_to - days_from)))
            for currency, fee in (terms.late_fee.minor if terms.late_fee else {}).items():
                cap = terms.fees_cap.get(currency) if terms.fees_cap else None
                charged = _fees_reached(days_to, terms) - _fees_reached(days_from, terms)
                fees.append(
                    (
                        sa.and_(applies, col(Account.currency) == currency),
                        _capped(Account.fees_minor, charged * fee, cap),
                    )
                )
            fees.append((applies, col(Account.fees_minor)))  # first matching terms win, even without a fee
    statement = (
        sa.update(Account)
        .where(
            col(Account.customer_id) == col(Customer.id),
            col(Account.id).between(*shard),
            col(Account.stage) != CLOSED,
            col(Account.due_date) < as_of,
            sa.or_(col(Account.accrued_through).is_(None), col(Account.accrued_through) < as_of),
        )
        .values(
            interest_minor=sa.case(*interest, else_=col(Account.interest_minor)),
            fees_minor=sa.case(*fees, else_=col(Account.fees_minor)),
            accrued_through=as_of,
        )
        .execution_options(synchronize_session=False)
    )
    return int(session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]


def _days(session: Session, later: Expr, earlier: Expr) -> Expr:
    if session.get_bind().dialect.name == "postgresql":
        return sa.cast(later - earlier, sa.Integer())
    return sa.cast(sa.func.julianday(later) - sa.func.julianday(earlier), sa.Integer())


def _applies(jurisdiction: str, terms: AccrualTerms) -> Expr:
    conditions: list[Expr] = [col(Customer.jurisdiction) == jurisdiction]
    if terms.products is not None:
        conditions.append(col(Account.product).in_(terms.products))
    return sa.and_(*conditions)


def _interest(terms: AccrualTerms, days: Expr) -> Expr:
    principal = col(Account.principal_minor)
    daily = sa.case((principal > 0, principal * terms.rate_ppm // (DAYS_PER_YEAR * PPM)), else_=0)
    cap = None if terms.cap_ppm is None else principal * terms.cap_ppm // PPM
    return _capped(Account.interest_minor, daily * days, cap)


def _fees_reached(dpd: Expr, terms: AccrualTerms) -> Expr:
    """late_fees_reached() in SQL: the CASE keeps integer division away from negative numbers."""
    return sa.case((dpd < 1, 0), else_=(dpd - 1) // terms.late_fee_every_days + 1)


def _capped(balance_column: Any, increase: Expr, cap: Expr | int | None) -> Expr:
    balance = col(balance_column)
    if cap is None:
        return balance + increase
    return sa.case((balance + increase <= cap, balance + increase), (balance > cap, balance), else_=cap)


def _freezes(accrual: Accrual, as_of: date) -> Expr:
    hold = sa.exists().where(
        col(Hold.account_id) == col(Account.id),
        col(Hold.kind).in_(accrual.frozen_by_holds),
        col(Hold.starts_on) <= as_of,
        sa.or_(col(Hold.ends_on).is_(None), col(Hold.ends_on) >= as_of),
    )
    plan = sa.exists().where(col(PaymentPlan.account_id) == col(Account.id), col(PaymentPlan.status) == "active")
    if accrual.accrues_during_plan_kinds:
        accruing = sa.select(col(Offer.id)).where(col(Offer.kind).in_(accrual.accrues_during_plan_kinds))
        plan = plan.where(sa.or_(col(PaymentPlan.offer_id).is_(None), col(PaymentPlan.offer_id).not_in(accruing)))
    return sa.or_(hold, plan) if accrual.frozen_by_holds else plan
