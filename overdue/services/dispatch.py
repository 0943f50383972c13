"""Dispatch: send the queued messages whose time has come, each once, each passing the contact guard again at
the moment it goes.

A message is claimed (`queued` -> `sending`, committed) before its provider is called and settled (`sent` or
`failed`, with the provider's id, committed) after. A claim is a conditional update, so two dispatchers never
send one message, and a rerun never sends a claimed one again: if the process dies mid-send the message stays
`sending` until the provider's status callback settles it, and a customer never gets it twice. No transaction
waits on a provider: the providers are called from a thread of their own while the next chunk is judged.

Messages go in rounds, each customer at most once per round, so a customer's second message of a tick is
judged by the guard after the first has gone (caps hold within a tick), while everyone's first messages go to
the providers together, as batches.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from overdue.channels.base import PERMANENT, Failure, OutgoingMessage, SendResult
from overdue.channels.router import ChannelRouter
from overdue.config import Configuration
from overdue.domain import litigation, stages
from overdue.domain.contact_window import next_window_opening
from overdue.domain.guard import Proposal, check_contact, only_window
from overdue.logging_redaction import redact
from overdue.services.audit import SYSTEM, audit_row, record_many
from overdue.services.contact_guard import FactsBook, blocked_row, load_facts
from overdue.services.delivery import record_address_fact
from overdue.store.bulk import chunked, update_by_id
from overdue.store.tables import Account, Customer, OutreachMessage

NOT_CONTACTABLE_STAGES = (stages.CLOSED, stages.LEGAL, stages.CURRENT)
CHUNK = 2000  # messages judged, claimed and handed to the providers at a time
UNCONFIRMED = "sending"  # the status a message keeps when its provider never answered
AUDIT_KIND = {"sent": "message.sent", "failed": "message.failed", UNCONFIRMED: "message.unconfirmed"}
Row = tuple[OutreachMessage, Customer, str]


@dataclass
class DispatchCounts:
    sent: int = 0
    failed: int = 0
    unconfirmed: int = 0  # no answer from the provider: maybe sent, never sent again
    deferred: int = 0
    cancelled: int = 0
    blocked: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def handled(self) -> int:
        """Messages this dispatch took off the due list, whatever became of them."""
        return self.sent + self.failed + self.unconfirmed + self.deferred + self.cancelled + sum(self.blocked.values())

    def add(self, other: DispatchCounts) -> None:
        self.sent += other.sent
        self.failed += other.failed
        self.unconfirmed += other.unconfirmed
        self.deferred += other.deferred
        self.cancelled += other.cancelled
        for rule, count in other.blocked.items():
            self.blocked[rule] += count

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "failed": self.failed,
            "unconfirmed": self.unconfirmed,
            "deferred": self.deferred,
            "cancelled": self.cancelled,
            "blocked": dict(self.blocked),
        }


def dispatch_due(
    session: Session, config: Configuration, channel: ChannelRouter, now: datetime, limit: int = 10_000
) -> DispatchCounts:
    """Send queued messages whose time has come. Outside the window a message waits for the window to open;
    blocked by any other rule it is marked blocked with the rules named; an account no longer in collection
    cancels it. Commits as it goes (claims before the providers are called, results after)."""
    counts = DispatchCounts()
    rows: list[Row] = [
        (message, customer, stage)
        for message, customer, stage in session.execute(
            sa.select(OutreachMessage, Customer, col(Account.stage))
            .join(Customer, col(Customer.id) == col(OutreachMessage.customer_id))
            .join(Account, col(Account.id) == col(OutreachMessage.account_id))
            .where(col(OutreachMessage.status) == "queued", col(OutreachMessage.send_at) <= now)
            .order_by(col(OutreachMessage.send_at), col(OutreachMessage.id))
            .limit(limit)
        ).tuples()
    ]
    if not rows:
        return counts
    book = load_facts(session, config, ((m.account_id, c) for m, c, _ in rows), now.date(), now)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="dispatch-send") as sender:
        for batch in _rounds(rows):
            _send_round(session, config, channel, sender, book, batch, now, counts)
    return counts


def _send_round(
    session: Session,
    config: Configuration,
    channel: ChannelRouter,
    sender: ThreadPoolExecutor,
    book: FactsBook,
    batch: list[Row],
    now: datetime,
    counts: DispatchCounts,
) -> None:
    """One round, in chunks: while the providers take one chunk (in `sender`'s thread), the next is judged and
    claimed here, and the one before is settled. A round has each customer once, so no chunk's verdicts depend
    on another chunk's results; the next round starts only once every result of this one is written."""
    in_flight: tuple[Future[list[SendResult]], list[tuple[OutreachMessage, Customer]]] | None = None
    for start in range(0, len(batch), CHUNK):
        ready = _judge(session, config, book, batch[start : start + CHUNK], now, counts)
        claimed = _claim(session, [message for message, _ in ready])
        session.commit()
        going = [(message, customer) for message, customer in ready if message.id in claimed]
        sending = sender.submit(channel.send_many, [_outgoing(message, customer) for message, customer in going])
        if in_flight is not None:
            _settle(session, book, in_flight[1], in_flight[0].result(), now, counts)
            session.commit()
        in_flight = (sending, going)
    if in_flight is not None:
        _settle(session, book, in_flight[1], in_flight[0].result(), now, counts)
        session.commit()


def _rounds(rows: Sequence[Row]) -> Iterator[list[Row]]:
    """Rows in rounds, each customer at most once per round, each customer's messages in their order."""
    pending = list(rows)
    while pending:
        seen: set[int] = set()
        batch: list[Row] = []
        later: list[Row] = []
        for row in pending:
            customer_id = row[0].customer_id
            (later if customer_id in seen else batch).append(row)
            seen.add(customer_id)
        yield batch
        pending = later


def _judge(
    session: Session,
    config: Configuration,
    book: FactsBook,
    batch: list[Row],
    now: datetime,
    counts: DispatchCounts,
) -> list[tuple[OutreachMessage, Customer]]:
    """The guard's verdict on each message now: the ones that may go; the others deferred, blocked or
    cancelled (written at once)."""
    ready: list[tuple[OutreachMessage, Customer]] = []
    updates: list[dict[str, Any]] = []
    audits: list[dict[str, Any]] = []
    for message, customer, stage in batch:
        reason = None
        if stage in NOT_CONTACTABLE_STAGES and not (
            stage == stages.LEGAL and message.purpose == litigation.LEGAL_NOTICE
        ):
            reason = f"account is {stage}"
        elif book.is_invalid(message.account_id, message.channel, message.address):
            reason = "the address was marked unreachable"
        if reason is not None:
            updates.append({"id": message.id, "status": "cancelled", "error": reason})
            audits.append(
                audit_row(
                    "message.cancelled", SYSTEM, now, message.account_id, key=message.idempotency_key, reason=reason
                )
            )
            counts.cancelled += 1
            continue
        policy = config.policy(customer.jurisdiction)
        party, facts = book.facts_for(message.account_id, message.channel, message.address)
        verdict = check_contact(Proposal(message.channel, now, message.purpose, party=party), facts, policy)
        if only_window(verdict, policy):
            updates.append(
                {"id": message.id, "send_at": next_window_opening(now, customer.time_zone, policy.contact_window)}
            )
            counts.deferred += 1
        elif not verdict.allowed:
            updates.append(
                {"id": message.id, "status": "blocked", "error": "blocked by " + ", ".join(verdict.blocked_by)}
            )
            audits.append(
                blocked_row(
                    message.account_id,
                    now,
                    verdict.blocked_by,
                    key=message.idempotency_key,
                    channel=message.channel,
                    purpose=message.purpose,
                )
            )
            for rule in verdict.blocked_by:
                counts.blocked[rule] += 1
        else:
            ready.append((message, customer))
    update_by_id(session, OutreachMessage, updates)
    record_many(session, audits)
    return ready


def _claim(session: Session, messages: list[OutreachMessage]) -> set[int]:
    """Mark `sending` the messages still queued; the ones another dispatcher took meanwhile are left alone."""
    claimed: set[int] = set()
    for ids in chunked([m.id for m in messages], 1000):
        result = session.execute(
            sa.update(OutreachMessage)
            .where(col(OutreachMessage.id).in_(ids), col(OutreachMessage.status) == "queued")
            .values(status="sending")
            .returning(col(OutreachMessage.id))
            .execution_options(synchronize_session=False)  # the loaded rows are not read for their status again
        )
        claimed.update(result.scalars())
    return claimed


def _outgoing(message: OutreachMessage, customer: Customer) -> OutgoingMessage:
    return OutgoingMessage(
        message.idempotency_key,
        message.channel,
        message.address,
        message.subject,
        message.body,
        message_id=message.id,
        locale=message.locale or customer.locale,
    )


def _settle(
    session: Session,
    book: FactsBook,
    going: list[tuple[OutreachMessage, Customer]],
    results: list[SendResult],
    now: datetime,
    counts: DispatchCounts,
) -> None:
    """Write each provider's answer; what it says about an address (invalid, unsubscribed) goes to the
    contact point, so the guard stops using it and no one retries it blindly."""
    updates: list[dict[str, Any]] = []
    audits: list[dict[str, Any]] = []
    for (message, _), result in zip(going, results, strict=True):
        status = _status_after(result)
        updates.append(
            {
                "id": message.id,
                "status": status,
                "sent_at": now if result.accepted else None,
                "provider": result.provider,
                "provider_id": result.provider_id,
                "error": result.error,
            }
        )
        details = {"failure": result.failure.value} if result.failure else {}
        audits.append(
            audit_row(
                AUDIT_KIND[status],
                SYSTEM,
                now,
                message.account_id,
                key=message.idempotency_key,
                channel=message.channel,
                purpose=message.purpose,
                provider=result.provider,
                **details,
            )
        )
        if result.accepted:
            counts.sent += 1
            book.record_sent(message.account_id, message.channel, now, message.purpose)
        elif status == UNCONFIRMED:
            counts.unconfirmed += 1
        else:
            counts.failed += 1
    update_by_id(session, OutreachMessage, updates, synchronize=False)  # the loaded rows are not read again
    record_many(session, audits)
    for (message, _), result in zip(going, results, strict=True):
        if result.failure in PERMANENT:
            reason = redact(f"{result.provider}: {result.error}")  # a provider's message may quote the number
            record_address_fact(session, message.channel, message.address, result.failure, reason, now)


def _status_after(result: SendResult) -> str:
    """A request whose answer never came stays claimed (`sending`): it may have been sent, so it is never sent
    again, and the provider's status callback, which names our id, settles it."""
    if result.accepted:
        return "sent"
    return UNCONFIRMED if result.failure == Failure.NO_RESPONSE else "failed"
