"""The daily cycle's negotiation step over one shard: lapse stale offers, then make the automatic one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from overdue.config import Configuration
from overdue.domain import stages
from overdue.domain.offers import Facts, OfferTerms, automatic_offer
from overdue.domain.validation import ClosedDays, public_holidays
from overdue.services.affordability import capacities
from overdue.services.audit import SYSTEM, audit_row, record_many
from overdue.services.condition_sql import BALANCE
from overdue.services.cycle import accounts_in_shard, held
from overdue.services.offers import offer_row, withdraw_approvals
from overdue.store.bulk import insert_returning_ids
from overdue.store.tables import Account, Offer
from overdue.store.views import JURISDICTION


@dataclass
class OfferResults:
    made: int = 0
    expired: int = 0
    not_applicable: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"made": self.made, "expired": self.expired, "not_applicable": self.not_applicable}


def make_offers(
    session: Session, config: Configuration, as_of: date, now: datetime, shard: tuple[int, int]
) -> OfferResults:
    """Lapse stale offers, then offer an installment plan within bounds (sized to the customer's capacity to
    pay when we know it) to every negotiation account that has no open offer. None is made once the
    re-negotiations allowed after broken plans are used up: legal review is proposed instead."""
    results = OfferResults(expired=_lapse(session, as_of, now, shard))
    skip = accounts_in_shard(
        session, col(Offer.account_id), shard, col(Offer.status).in_(("open", "pending_approval"))
    ) | held(session, shard, as_of)
    rows = session.execute(
        sa.select(
            col(Account.id),
            BALANCE,
            col(Account.currency),
            col(Account.product),
            col(Account.broken_plans),
            col(Account.customer_id),
            JURISDICTION,
        )
        .where(
            col(Account.id).between(*shard),
            col(Account.stage) == stages.NEGOTIATION,
        )
        .order_by(col(Account.id))  # offers are written in this order: ids must not depend on the plan
    ).all()
    rows = [row for row in rows if row[0] not in skip]
    capacity = capacities(session, list({row[5] for row in rows}))
    proposed: list[tuple[int, OfferTerms]] = []
    calendars: dict[str, ClosedDays] = {}
    for account_id, balance, currency, product, broken, customer_id, jurisdiction in rows:
        if jurisdiction not in calendars:
            calendars[jurisdiction] = ClosedDays(public_holidays(config.policy(jurisdiction).holiday_country))
        closed = calendars[jurisdiction]
        facts = Facts(balance, currency, as_of, closed, capacity.get((customer_id, currency)), False, broken)
        terms = automatic_offer(facts, config.offers.policy(jurisdiction, product))
        if terms is None:
            results.not_applicable += 1
        else:
            proposed.append((account_id, terms))
    ids = insert_returning_ids(
        session, Offer, [offer_row(account_id, terms, as_of, SYSTEM, "open") for account_id, terms in proposed]
    )
    record_many(
        session,
        (_made(offer_id, account_id, terms, now) for offer_id, (account_id, terms) in zip(ids, proposed, strict=True)),
    )
    results.made = len(proposed)
    return results


def _made(offer_id: int, account_id: int, terms: OfferTerms, now: datetime) -> dict[str, Any]:
    return audit_row(
        "offer.made",
        SYSTEM,
        now,
        account_id,
        offer_id=offer_id,
        offer_kind=terms.kind,
        installments=terms.installments,
        total_minor=terms.total_minor,
    )


def _lapse(session: Session, as_of: date, now: datetime, shard: tuple[int, int]) -> int:
    """Open offers past their date expire (a pending one too: its approval came too late to matter)."""
    expired = session.execute(
        sa.select(col(Offer.id), col(Offer.account_id)).where(
            col(Offer.account_id).between(*shard),
            col(Offer.status).in_(("open", "pending_approval")),
            col(Offer.expires_on) < as_of,
        )
    ).all()
    if expired:
        offer_ids = [offer for offer, _ in expired]
        session.execute(sa.update(Offer).where(col(Offer.id).in_(offer_ids)).values(status="expired"))
        withdraw_approvals(session, [account for _, account in expired], offer_ids, "the offer expired", SYSTEM, now)
        record_many(
            session, (audit_row("offer.expired", SYSTEM, now, account, offer_id=offer) for offer, account in expired)
        )
    return len(expired)
