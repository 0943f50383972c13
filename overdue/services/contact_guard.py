"""The store side of the contact guard: the facts for a batch of accounts, loaded in a few set-based
queries, and the record of every blocked attempt with the rules that blocked it."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from overdue.config import Configuration
from overdue.domain import stages
from overdue.domain.guard import COLLECTION, DEBTOR, PLAN, THIRD_PARTY, VALIDATION, Attempt, ContactFacts
from overdue.services.audit import SYSTEM, audit_row
from overdue.services.auto_tasks import open_once
from overdue.store.bulk import any_of
from overdue.store.tables import ContactPoint, Conversation, Hold, OutreachMessage, PaymentPlan
from overdue.store.views import CustomerLike

HISTORY_DAYS = 8
# A message counts as a contact once it left, whatever its delivery status became later; and the test
# leads SQLite and PostgreSQL to the (customer or account, sent_at) indexes, not the status one.
WAS_SENT = col(OutreachMessage.sent_at).is_not(
    None
)  # the longest look-back of any rule (7 days) plus a day for time zones


def purpose_of(stage: str) -> str:
    return PLAN if stage == stages.PLAN else COLLECTION


@dataclass(frozen=True)
class Reachable:
    address: str
    consent: bool
    is_workplace: bool
    channel: str = ""
    party: str = DEBTOR
    opted_out: bool = False


# The order in which someone else's points are tried to locate a debtor: a relative passes on a call best.
LOCATE_CHANNEL_ORDER = ("voice", "sms", "letter", "email")


@dataclass
class FactsBook:
    """Facts per account and contact points per customer, for one batch; `record_sent` keeps the
    history current while a batch is dispatched, so caps hold within the batch too."""

    base: dict[int, ContactFacts]
    contact_points: dict[tuple[int, str], Reachable]
    customer_of: dict[int, int]
    attempts: dict[int, list[Attempt]] = field(default_factory=lambda: defaultdict(list))
    collection_contacts: Counter[int] = field(default_factory=Counter)
    first_collection_at: dict[int, datetime] = field(default_factory=dict)
    validation_sent_at: dict[int, datetime] = field(default_factory=dict)
    validation_queued: set[int] = field(default_factory=set)
    debtor_addresses: set[tuple[int, str, str]] = field(default_factory=set)
    invalid_addresses: set[tuple[int, str, str]] = field(default_factory=set)  # marked unreachable
    others: dict[int, list[Reachable]] = field(default_factory=lambda: defaultdict(list))

    def address(self, account_id: int, channel: str) -> Reachable | None:
        return self.contact_points.get((self.customer_of[account_id], channel))

    def facts(self, account_id: int, channel: str) -> ContactFacts:
        point = self.address(account_id, channel)
        return replace(
            self.base[account_id],
            workplace_address=bool(point and point.is_workplace),
            attempts=tuple(self.attempts[self.customer_of[account_id]]),
            collection_contacts=self.collection_contacts[account_id],
            first_collection_at=self.first_collection_at.get(account_id),
            validation_sent_at=self.validation_sent_at.get(account_id),
        )

    def facts_for(self, account_id: int, channel: str, address: str) -> tuple[str, ContactFacts]:
        """Whose address this is, and the facts for contacting it: the debtor's own, or a guarantor's or
        third party's with their own consent and opt-out. An address we no longer hold is a stranger's."""
        customer_id = self.customer_of[account_id]
        if (customer_id, channel, address) in self.debtor_addresses:
            return DEBTOR, self.facts(account_id, channel)
        point = next((p for p in self.others[customer_id] if (p.channel, p.address) == (channel, address)), None)
        stranger = Reachable(address, consent=False, is_workplace=False, channel=channel, party=THIRD_PARTY)
        point = point or stranger
        return point.party, replace(
            self.facts(account_id, channel),
            consented=frozenset({channel}) if point.consent else frozenset(),
            opted_out=frozenset({channel}) if point.opted_out else frozenset(),
            workplace_address=point.is_workplace,
        )

    def is_invalid(self, account_id: int, channel: str, address: str) -> bool:
        """A point of this customer's with this address was marked unreachable (and none is still valid)."""
        key = (self.customer_of[account_id], channel, address)
        return key in self.invalid_addresses and key not in self.debtor_addresses

    def needs_validation_notice(self, account_id: int) -> bool:
        """No notice sent or waiting in the outbox (only asked for accounts whose policy requires one)."""
        return account_id not in self.validation_sent_at and account_id not in self.validation_queued

    def record_sent(self, account_id: int, channel: str, at: datetime, purpose: str) -> None:
        self.attempts[self.customer_of[account_id]].append(Attempt(at, channel, account_id, purpose))
        if purpose == COLLECTION:
            self.collection_contacts[account_id] += 1
        if purpose in (COLLECTION, PLAN):
            self.first_collection_at.setdefault(account_id, at)
        if purpose == VALIDATION:
            self.validation_sent_at.setdefault(account_id, at)


def load_facts(
    session: Session,
    config: Configuration,
    accounts: Iterable[tuple[int, CustomerLike]],
    today: date,
    now: datetime,
) -> FactsBook:
    """`accounts`: (account id, its customer) for every account in the batch."""
    rows = list(accounts)
    account_ids = [account_id for account_id, _ in rows]
    customer_ids = sorted({customer.id for _, customer in rows if customer.id is not None})
    holds = _active_holds(session, account_ids, today)
    on_plan = _active_plans(session, account_ids)
    book = FactsBook(base={}, contact_points={}, customer_of={a: c.id for a, c in rows if c.id is not None})
    opted_out, consented, reachable = _load_contact_points(session, book, customer_ids)
    spoke = _last_telephone_conversations(session, account_ids, now)
    for customer_id, attempt in _recent_attempts(session, customer_ids, now):
        book.attempts[customer_id].append(attempt)
    vulnerable_accounts = [account_id for account_id, customer in rows if customer.vulnerability]
    book.collection_contacts.update(collection_contacts(session, vulnerable_accounts))
    noticed = [a for a, customer in rows if config.policy(customer.jurisdiction).validation_notice is not None]
    _load_validation_history(session, book, noticed)
    for account_id, customer in rows:
        book.base[account_id] = ContactFacts(
            account_id=account_id,
            time_zone=customer.time_zone,
            holds=frozenset(holds.get(account_id, ())),
            opted_out=frozenset(opted_out.get(customer.id, ())),  # type: ignore[arg-type]
            consented=frozenset(consented.get(customer.id, ())),  # type: ignore[arg-type]
            workplace_contact_ok=customer.workplace_contact_ok,
            vulnerable=bool(customer.vulnerability),
            vulnerability_reviewed=customer.vulnerability_reviewed_on is not None,
            plan_active=account_id in on_plan,
            last_conversation_at=spoke.get(account_id),
            debtor_reachable=customer.id in reachable,
        )
    return book


def _active_holds(session: Session, account_ids: list[int], today: date) -> dict[int, set[str]]:
    found: dict[int, set[str]] = defaultdict(set)
    for among in any_of(session, col(Hold.account_id), account_ids):
        query = sa.select(col(Hold.account_id), col(Hold.kind)).where(
            among,
            col(Hold.starts_on) <= today,
            sa.or_(col(Hold.ends_on).is_(None), col(Hold.ends_on) >= today),
        )
        for account_id, kind in session.execute(query):
            found[account_id].add(kind)
    return found


def _active_plans(session: Session, account_ids: list[int]) -> set[int]:
    found: set[int] = set()
    for among in any_of(session, col(PaymentPlan.account_id), account_ids):
        query = sa.select(col(PaymentPlan.account_id)).where(among, col(PaymentPlan.status) == "active")
        found.update(session.scalars(query))
    return found


def _load_contact_points(
    session: Session, book: FactsBook, customer_ids: list[int]
) -> tuple[dict[int, set[str]], dict[int, set[str]], set[int]]:
    """The debtor's first valid point per channel is the cadence's address (a relative's number never is);
    a channel counts as opted out if any of the debtor's points on it is; a debtor with any valid point is
    reachable. Other people's points are kept apart, for locating a debtor who is not."""
    opted_out: dict[int, set[str]] = defaultdict(set)
    consented: dict[int, set[str]] = defaultdict(set)
    reachable: set[int] = set()
    for among in any_of(session, col(ContactPoint.customer_id), customer_ids):
        query = (
            sa.select(
                col(ContactPoint.customer_id),
                col(ContactPoint.channel),
                col(ContactPoint.address),
                col(ContactPoint.consent),
                col(ContactPoint.is_workplace),
                col(ContactPoint.party),
                col(ContactPoint.opted_out_at).is_not(None),
                col(ContactPoint.invalid_at).is_not(None),
            )
            .where(among)
            .order_by(col(ContactPoint.id))
        )
        # Plain rows, not ORM objects: a shard's 20,000 points cost 0.1-0.3 s this way, 0.7-1.1 s the other.
        for customer_id, channel, address, consent, is_workplace, party, opted, invalid in session.execute(query):
            if invalid:
                book.invalid_addresses.add((customer_id, channel, address))
                continue
            reach = Reachable(address, consent, is_workplace, channel, party, opted)
            if party != DEBTOR:
                book.others[customer_id].append(reach)
                continue
            reachable.add(customer_id)
            book.debtor_addresses.add((customer_id, channel, address))
            if opted:
                opted_out[customer_id].add(channel)
            key = (customer_id, channel)
            if key not in book.contact_points:
                book.contact_points[key] = reach
                if consent:
                    consented[customer_id].add(channel)
    for others in book.others.values():
        others.sort(key=lambda p: LOCATE_CHANNEL_ORDER.index(p.channel))
    return opted_out, consented, reachable


def _last_telephone_conversations(session: Session, account_ids: list[int], now: datetime) -> dict[int, datetime]:
    found: dict[int, datetime] = {}
    for among in any_of(session, col(Conversation.account_id), account_ids):
        query = (
            sa.select(col(Conversation.account_id), sa.func.max(col(Conversation.at)))
            .where(
                among,
                col(Conversation.channel) == "voice",
                col(Conversation.right_party),  # a conversation with someone else is not one with the debtor
                col(Conversation.at) <= now,
            )
            .group_by(col(Conversation.account_id))
        )
        found.update(dict(session.execute(query).tuples().all()))
    return found


def collection_contacts(session: Session, account_ids: list[int], before: datetime | None = None) -> Counter[int]:
    """Collection contacts ever sent per account (only the vulnerability rule needs the whole history)."""
    found: Counter[int] = Counter()
    for among in any_of(session, col(OutreachMessage.account_id), account_ids):
        query = (
            sa.select(col(OutreachMessage.account_id), sa.func.count())
            .where(
                among,
                WAS_SENT,
                col(OutreachMessage.purpose) == COLLECTION,
            )
            .group_by(col(OutreachMessage.account_id))
        )
        if before is not None:
            query = query.where(col(OutreachMessage.sent_at) < before)
        found.update(dict(session.execute(query).tuples().all()))
    return found


def _load_validation_history(session: Session, book: FactsBook, account_ids: list[int]) -> None:
    book.first_collection_at, book.validation_sent_at = first_contacts(session, account_ids)
    for among in any_of(session, col(OutreachMessage.account_id), account_ids):
        queued = sa.select(col(OutreachMessage.account_id)).where(
            among,
            col(OutreachMessage.status) == "queued",
            col(OutreachMessage.purpose) == VALIDATION,
        )
        book.validation_queued.update(session.scalars(queued))


def first_contacts(
    session: Session, account_ids: list[int], before: datetime | None = None
) -> tuple[dict[int, datetime], dict[int, datetime]]:
    """Per debt: when it was first contacted for collection (or about its plan), and when its validation
    notice first went out."""
    first_collection: dict[int, datetime] = {}
    validation: dict[int, datetime] = {}
    for among in any_of(session, col(OutreachMessage.account_id), account_ids):
        query = (
            sa.select(
                col(OutreachMessage.account_id), col(OutreachMessage.purpose), sa.func.min(col(OutreachMessage.sent_at))
            )
            .where(
                among,
                WAS_SENT,
                col(OutreachMessage.purpose).in_((COLLECTION, PLAN, VALIDATION)),
            )
            .group_by(col(OutreachMessage.account_id), col(OutreachMessage.purpose))
        )
        if before is not None:
            query = query.where(col(OutreachMessage.sent_at) < before)
        for account_id, purpose, first_at in session.execute(query):
            found = validation if purpose == VALIDATION else first_collection
            if account_id not in found or first_at < found[account_id]:
                found[account_id] = first_at
    return first_collection, validation


def _recent_attempts(session: Session, customer_ids: list[int], now: datetime) -> list[tuple[int, Attempt]]:
    since = now - timedelta(days=HISTORY_DAYS)
    found: list[tuple[int, Attempt]] = []
    for among in any_of(session, col(OutreachMessage.customer_id), customer_ids):
        query = sa.select(
            col(OutreachMessage.customer_id),
            col(OutreachMessage.account_id),
            col(OutreachMessage.channel),
            col(OutreachMessage.sent_at),
            col(OutreachMessage.purpose),
        ).where(
            among,
            WAS_SENT,
            col(OutreachMessage.sent_at) >= since,
        )
        for customer_id, account_id, channel, sent_at, purpose in session.execute(query):
            found.append((customer_id, Attempt(sent_at, channel, account_id, purpose)))
    return found


def blocked_row(account_id: int, now: datetime, rules: tuple[str, ...], **data: Any) -> dict[str, Any]:
    """The audit record of a contact the guard refused: which rules, and what was proposed."""
    return audit_row("message.blocked", SYSTEM, now, account_id, rules=list(rules), **data)


VULNERABILITY_REVIEW = "vulnerability_review"


def open_vulnerability_reviews(
    session: Session, account_ids: Iterable[int], role: str, sla_hours: int, now: datetime
) -> list[int]:
    """A vulnerable customer stopped after the first reminder goes to a specialist: one pending task per account.
    Returns the accounts that got one."""
    payload = {"reason": "vulnerable customer: review before any further contact"}
    return open_once(session, VULNERABILITY_REVIEW, role, sla_hours, dict.fromkeys(account_ids, payload), SYSTEM, now)
