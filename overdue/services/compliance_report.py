"""The compliance report: what was sent and refused in a period, and proof that nothing sent broke a rule.

The proof re-checks every contact sent in the period with the same guard, against the facts as they
stood at that instant: holds active that day, opt-outs made before it, the plan then in force, a
specialist review done by then, and the customer's contacts in the days before. A violation means the
system (or someone going around it) contacted a customer the rules forbid.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col

from overdue.config import Configuration
from overdue.domain.guard import COLLECTION, DEBTOR, PLAN, VALIDATION, Attempt, ContactFacts, Proposal, check_contact
from overdue.services.contact_guard import HISTORY_DAYS, WAS_SENT, collection_contacts, first_contacts
from overdue.store.bulk import chunked
from overdue.store.tables import (
    AuditEvent,
    ContactPoint,
    Conversation,
    Customer,
    Hold,
    Offer,
    OutreachMessage,
    PaymentPlan,
)


@dataclass(frozen=True)
class Violation:
    message_id: int
    account_id: int
    channel: str
    sent_at: datetime
    rules: tuple[str, ...]


@dataclass
class ComplianceReport:
    start: date
    end: date
    sent: Counter[str] = field(default_factory=Counter)
    blocked: Counter[tuple[str, str]] = field(default_factory=Counter)
    holds_opened: Counter[str] = field(default_factory=Counter)
    holds_closed: Counter[str] = field(default_factory=Counter)
    rechecked: int = 0
    violations: list[Violation] = field(default_factory=list)


def compliance_report(session: Session, config: Configuration, start: date, end: date) -> ComplianceReport:
    report = ComplianceReport(start, end)
    begin = datetime.combine(start, time(), tzinfo=UTC)
    finish = datetime.combine(end + timedelta(days=1), time(), tzinfo=UTC)
    _count_blocks(session, report, begin, finish)
    _count_holds(session, report, start, end)
    customers = list(
        session.scalars(
            sa.select(col(OutreachMessage.customer_id))
            .where(WAS_SENT, col(OutreachMessage.sent_at).between(begin, finish))
            .distinct()
        )
    )
    for batch in chunked(sorted(customers), 500):
        _recheck(session, config, report, list(batch), begin, finish)
    return report


def _count_blocks(session: Session, report: ComplianceReport, begin: datetime, finish: datetime) -> None:
    query = sa.select(col(AuditEvent.data)).where(
        col(AuditEvent.kind) == "message.blocked", col(AuditEvent.ts) >= begin, col(AuditEvent.ts) < finish
    )
    for data in session.scalars(query.execution_options(yield_per=5000)):
        for rule in data.get("rules", []):
            report.blocked[(rule, data.get("channel") or "-")] += 1


def _count_holds(session: Session, report: ComplianceReport, start: date, end: date) -> None:
    for kind, starts_on, ends_on in session.execute(
        sa.select(col(Hold.kind), col(Hold.starts_on), col(Hold.ends_on)).where(
            sa.or_(col(Hold.starts_on).between(start, end), col(Hold.ends_on).between(start, end))
        )
    ):
        if start <= starts_on <= end:
            report.holds_opened[kind] += 1
        if ends_on is not None and start <= ends_on <= end:
            report.holds_closed[kind] += 1


@dataclass
class _Past:
    """Everything a batch of customers' contacts are re-checked against, as it stood at any instant:
    dated records (holds, plans, opt-outs, conversations, invalid points) are filtered by the instant,
    and the running counts are advanced message by message in the order they were sent."""

    customers: dict[int, Customer]
    points_of: dict[int, list[ContactPoint]]
    holds: dict[int, list[Hold]]
    plans: dict[int, list[PaymentPlan]]
    accepted: dict[int, datetime | None]
    spoke: dict[int, list[datetime]]
    made: Counter[int]
    first_collection: dict[int, datetime]
    validation_sent: dict[int, datetime]
    history: dict[int, list[Attempt]] = field(default_factory=lambda: defaultdict(list))

    def proposal_and_facts(self, message: OutreachMessage) -> tuple[Proposal, ContactFacts]:
        at = message.sent_at
        assert at is not None
        customer = self.customers[message.customer_id]
        mine = self.points_of[message.customer_id]
        target = next((p for p in mine if (p.channel, p.address) == (message.channel, message.address)), None)
        party = target.party if target is not None else DEBTOR
        # Opt-outs and consent are the debtor's for their own points, the third party's for theirs.
        own = [p for p in mine if p.party == DEBTOR] if party == DEBTOR else [target] if target else []
        reviewed = customer.vulnerability_reviewed_on
        facts = ContactFacts(
            account_id=message.account_id,
            time_zone=customer.time_zone,
            holds=frozenset(h.kind for h in self.holds[message.account_id] if _hold_in_force(h, at)),
            opted_out=frozenset(p.channel for p in own if p.opted_out_at is not None and p.opted_out_at <= at),
            consented=frozenset(p.channel for p in own if p.consent),
            workplace_address=target is not None and target.is_workplace,
            workplace_contact_ok=customer.workplace_contact_ok,
            vulnerable=bool(customer.vulnerability),
            vulnerability_reviewed=reviewed is not None and reviewed <= at.date(),
            plan_active=any(_plan_in_force(p, self.accepted, at) for p in self.plans[message.account_id]),
            collection_contacts=self.made[message.account_id],
            attempts=tuple(self.history[message.customer_id]),
            first_collection_at=self.first_collection.get(message.account_id),
            validation_sent_at=self.validation_sent.get(message.account_id),
            last_conversation_at=max((c for c in self.spoke[message.account_id] if c <= at), default=None),
            debtor_reachable=any(p.party == DEBTOR and (p.invalid_at is None or p.invalid_at > at) for p in mine),
        )
        return Proposal(message.channel, at, message.purpose, party=party), facts

    def record(self, message: OutreachMessage) -> None:
        at = message.sent_at
        assert at is not None
        self.history[message.customer_id].append(Attempt(at, message.channel, message.account_id, message.purpose))
        if message.purpose == COLLECTION:
            self.made[message.account_id] += 1
        if message.purpose in (COLLECTION, PLAN):
            self.first_collection.setdefault(message.account_id, at)
        if message.purpose == VALIDATION:
            self.validation_sent.setdefault(message.account_id, at)


def _recheck(
    session: Session,
    config: Configuration,
    report: ComplianceReport,
    customer_ids: list[int],
    begin: datetime,
    finish: datetime,
) -> None:
    earliest = begin - timedelta(days=HISTORY_DAYS)
    messages = list(
        session.scalars(
            sa.select(OutreachMessage)
            .where(
                col(OutreachMessage.customer_id).in_(customer_ids),
                WAS_SENT,
                col(OutreachMessage.sent_at) >= earliest,
                col(OutreachMessage.sent_at) < finish,
            )
            .order_by(col(OutreachMessage.customer_id), col(OutreachMessage.sent_at), col(OutreachMessage.id))
        )
    )
    past = _load_past(session, customer_ids, sorted({m.account_id for m in messages}), earliest)
    for message in messages:
        assert message.sent_at is not None
        if message.sent_at >= begin:
            proposal, facts = past.proposal_and_facts(message)
            jurisdiction = past.customers[message.customer_id].jurisdiction
            verdict = check_contact(proposal, facts, config.policy(jurisdiction))
            report.rechecked += 1
            report.sent[message.channel] += 1
            if not verdict.allowed:
                report.violations.append(
                    Violation(message.id, message.account_id, message.channel, message.sent_at, verdict.blocked_by)  # type: ignore[arg-type]
                )
        past.record(message)


def _load_past(session: Session, customer_ids: list[int], account_ids: list[int], earliest: datetime) -> _Past:
    points_of: dict[int, list[ContactPoint]] = defaultdict(list)
    for point in session.scalars(sa.select(ContactPoint).where(col(ContactPoint.customer_id).in_(customer_ids))):
        points_of[point.customer_id].append(point)
    plans = _by_account(session.scalars(sa.select(PaymentPlan).where(col(PaymentPlan.account_id).in_(account_ids))))
    offer_ids = [p.offer_id for rows in plans.values() for p in rows if p.offer_id is not None]
    spoke: dict[int, list[datetime]] = defaultdict(list)
    for account_id, at in session.execute(
        sa.select(col(Conversation.account_id), col(Conversation.at)).where(
            col(Conversation.account_id).in_(account_ids), col(Conversation.channel) == "voice"
        )
    ):
        spoke[account_id].append(at)
    first_collection, validation_sent = first_contacts(session, account_ids, before=earliest)
    return _Past(
        customers={c.id: c for c in session.scalars(sa.select(Customer).where(col(Customer.id).in_(customer_ids)))},  # type: ignore[misc]
        points_of=points_of,
        holds=_by_account(session.scalars(sa.select(Hold).where(col(Hold.account_id).in_(account_ids)))),
        plans=plans,
        accepted=dict(
            session.execute(sa.select(col(Offer.id), col(Offer.accepted_at)).where(col(Offer.id).in_(offer_ids)))
            .tuples()
            .all()
        ),
        spoke=spoke,
        made=collection_contacts(session, account_ids, before=earliest),
        first_collection=first_collection,
        validation_sent=validation_sent,
    )


def _hold_in_force(hold: Hold, at: datetime) -> bool:
    """In force from the later of its start date and the instant it was placed, through its last day."""
    day = at.date()
    placed = hold.placed_at is None or hold.placed_at <= at
    return placed and hold.starts_on <= day and (hold.ends_on is None or hold.ends_on >= day)


def _plan_in_force(plan: PaymentPlan, accepted: dict[int, datetime | None], at: datetime) -> bool:
    """From the instant its offer was accepted until the day it was kept or broken."""
    start = accepted.get(plan.offer_id) if plan.offer_id is not None else None
    began = start <= at if start is not None else plan.created_on < at.date()
    return began and (plan.ended_on is None or plan.ended_on > at.date())


def _by_account(rows: Iterator[Hold] | Iterator[PaymentPlan]) -> dict[int, list]:  # type: ignore[type-arg]
    grouped: dict[int, list] = defaultdict(list)  # type: ignore[type-arg]
    for row in rows:
        grouped[row.account_id].append(row)
    return grouped
