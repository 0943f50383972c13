"""What stage conditions and cadences need beyond an account's own columns, loaded for a shard at once: its
pauses (which days count) and the flags the configured strategies test (which are usually none).

A few set-based queries per shard, never one per account: pauses and holds are rare, so these return a
handful of rows where the shard has a hundred thousand accounts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlmodel import Session, col

from overdue.config import Configuration
from overdue.domain.flags import HOLD_KINDS, PAUSE, VULNERABLE
from overdue.domain.pauses import Pause, effective_dpd, is_paused
from overdue.store.tables import Account, Customer, Hold

NO_FLAGS: frozenset[str] = frozenset()


@dataclass
class ConditionFacts:
    pauses: dict[int, list[Pause]] = field(default_factory=dict)
    flags: dict[int, frozenset[str]] = field(default_factory=dict)

    def paused_on(self, account_id: int, day: date) -> bool:
        return is_paused(self.pauses.get(account_id, ()), day)

    def dpd(self, account_id: int, dpd: int, due_date: date, as_of: date) -> int:
        return effective_dpd(dpd, due_date, self.pauses.get(account_id, ()), as_of)

    def flags_of(self, account_id: int) -> frozenset[str]:
        return self.flags.get(account_id, NO_FLAGS)


def flags_used(config: Configuration) -> frozenset[str]:
    return frozenset().union(*(strategy.flags_used for strategy in config.strategies.values()))


def load_condition_facts(
    session: Session, config: Configuration, as_of: date, shard: tuple[int, int], *, with_flags: bool = True
) -> ConditionFacts:
    in_shard = col(Hold.account_id).between(*shard)
    facts = ConditionFacts(pauses=load_pauses(session, in_shard))
    if with_flags:
        facts.flags = load_flags(session, flags_used(config), as_of, shard)
    return facts


def load_pauses(session: Session, where: sa.ColumnElement[bool]) -> dict[int, list[Pause]]:
    pauses: dict[int, list[Pause]] = defaultdict(list)
    query = sa.select(col(Hold.account_id), col(Hold.starts_on), col(Hold.ends_on)).where(
        col(Hold.kind) == PAUSE, where
    )
    for account_id, starts_on, ends_on in session.execute(query.order_by(col(Hold.starts_on))):
        pauses[account_id].append(Pause(starts_on, ends_on))
    return dict(pauses)


def load_flags(
    session: Session, wanted: Iterable[str], as_of: date, shard: tuple[int, int]
) -> dict[int, frozenset[str]]:
    """Only the flags some condition tests: a strategy that tests none costs nothing here."""
    wanted = set(wanted)
    found: dict[int, set[str]] = defaultdict(set)
    kinds = sorted(wanted & set(HOLD_KINDS))
    if kinds:
        held = sa.select(col(Hold.account_id), col(Hold.kind)).where(
            col(Hold.account_id).between(*shard),
            col(Hold.kind).in_(kinds),
            col(Hold.starts_on) <= as_of,
            sa.or_(col(Hold.ends_on).is_(None), col(Hold.ends_on) >= as_of),
        )
        for account_id, kind in session.execute(held):
            found[account_id].add(kind)
    if VULNERABLE in wanted:
        vulnerable = (
            sa.select(col(Account.id))
            .join(Customer, col(Customer.id) == col(Account.customer_id))
            .where(col(Account.id).between(*shard), sa.func.json_array_length(col(Customer.vulnerability)) > 0)
        )
        for (account_id,) in session.execute(vulnerable):
            found[account_id].add(VULNERABLE)
    return {account_id: frozenset(flags) for account_id, flags in found.items()}
