"""A customer's text or email reply: kept as received, read for what it says, and acted on.

- STOP and the other revocations opt the sender out of that channel at once (on every account of every
  debtor who holds the address), and one confirmation text is queued through the outbox; START opts back in;
  HELP is answered at once with who we are and how to reach us (no debt is named: the phone may not be theirs).
- Any other reply about an account is recorded as a conversation (a promise with its date). Besides, a
  dispute opens a dispute hold (collection stops) and a `dispute_review`; a complaint places the complaint hold
  and opens a `complaint`; a request to be called back opens an `agent_call` (one pending task per account and
  kind, however many replies say it); a wrong number marks the number unreachable; YES accepts the account's
  open offer; a dated promise becomes a promise to pay, tracked like a plan; stated income and expenses become
  an affordability statement; hardship, affordability, a payment the customer says was made and anything we
  cannot act on open an `inbound_message` task for a person.
- Attachments (an emailed receipt or statement) are kept as evidence, sealed.

The account a reply is about is the one of the last message we sent to that address; failing that, the
sender's only (or oldest) open account.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col

from overdue.channels.context import OPT_OUT, message_context
from overdue.domain import replies, stages
from overdue.domain.affordability import Statement
from overdue.domain.money import to_minor
from overdue.logging_redaction import redact
from overdue.runtime import Runtime
from overdue.services.affordability import AffordabilityError, record_statement
from overdue.services.audit import record
from overdue.services.call_backs import open_call_backs
from overdue.services.complaints import open_complaint
from overdue.services.contact_preferences import invalidate_address, opt_in_address, opt_out_address
from overdue.services.conversations import record_conversation
from overdue.services.dispute_reviews import open_review
from overdue.services.disputes import open_dispute
from overdue.services.holds import DISPUTE, hold_in_force
from overdue.services.offers import OfferError, accept_offer
from overdue.services.plans import make_promise
from overdue.store.bulk import insert_ignoring_conflicts
from overdue.store.tables import (
    Account,
    ContactPoint,
    Customer,
    Evidence,
    HumanTask,
    InboundMessage,
    Offer,
    OutreachMessage,
)

TASK_KIND = "inbound_message"
CONFIRMATION = "optout_confirmation"
HELP_TEMPLATE = "help"
EXCERPT = 500  # characters of the reply a task shows, personal numbers masked
CONVERSATION_OUTCOMES = {
    replies.ACCEPT: "offer_accepted",
    replies.AFFORDABILITY: "affordability",
    replies.PAID: "paid",
    replies.PROMISE: "promise_to_pay",
    replies.DISPUTE: "dispute",
    replies.HARDSHIP: "hardship",
    replies.WRONG_NUMBER: "wrong_party",
    replies.COMPLAINT: "complaint",
    replies.CALLBACK: "callback_requested",
    replies.OTHER: "other",
}
FOR_A_PERSON = frozenset({replies.PAID, replies.HARDSHIP, replies.AFFORDABILITY, replies.OTHER})
# A number that texts us is the same line we call: identify the sender by either.
IDENTIFYING_CHANNELS = {"sms": ("sms", "voice"), "email": ("email",)}


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class Inbound:
    channel: str  # sms or email
    provider: str
    provider_id: str
    from_address: str
    body: str
    subject: str | None = None
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class Received:
    inbound_id: int
    intent: str
    account_id: int | None
    answer: str | None = None  # a text to answer with at once (HELP)


def receive(session: Session, runtime: Runtime, inbound: Inbound, now: datetime) -> Received:
    """Keep, read and act on one reply. The caller has made sure it is genuine and new."""
    customers = _senders(session, inbound)
    account = _account_about(session, inbound, customers)
    customer = session.get(Customer, account.customer_id) if account else None
    local_today = now.astimezone(ZoneInfo(customer.time_zone)).date() if customer else now.date()
    reply = _read(inbound, local_today)
    kept = InboundMessage(
        channel=inbound.channel,
        provider=inbound.provider,
        provider_id=inbound.provider_id,
        from_address=inbound.from_address,
        customer_id=customer.id if customer else None,
        account_id=account.id if account else None,
        subject=(inbound.subject or "")[:300] or None,
        body=inbound.body,
        intent=reply.intent,
        promised_on=reply.promised_on,
        received_at=now,
    )
    session.add(kept)
    session.flush()
    assert kept.id is not None
    _keep_evidence(session, runtime, kept, inbound.attachments, now)
    actor = f"customer:{inbound.channel}"
    record(
        session,
        "inbound.received",
        actor,
        now,
        kept.account_id,
        inbound_id=kept.id,
        channel=inbound.channel,
        intent=reply.intent,
        attachments=len(inbound.attachments),
    )
    answer = _act(session, runtime, inbound, kept, reply, account, actor, now)
    return Received(kept.id, reply.intent, kept.account_id, answer)


def _act(
    session: Session,
    runtime: Runtime,
    inbound: Inbound,
    kept: InboundMessage,
    reply: replies.Reply,
    account: Account | None,
    actor: str,
    now: datetime,
) -> str | None:
    source = f"{reply.intent.upper()} reply by {inbound.channel}"
    if reply.intent == replies.STOP:
        for customer_id in opt_out_address(session, inbound.channel, inbound.from_address, source, actor, now):
            if inbound.channel == "sms":
                _queue_confirmation(session, runtime, inbound, customer_id, now)
        return None
    if reply.intent == replies.START:
        opt_in_address(session, inbound.channel, inbound.from_address, source, actor, now)
        return None
    if reply.intent == replies.HELP:
        return _help_text(runtime, session.get(Customer, account.customer_id) if account else None)
    if reply.intent == replies.WRONG_NUMBER:
        for channel in IDENTIFYING_CHANNELS[inbound.channel]:
            reason = f"the holder replied: wrong number (inbound {kept.id})"
            invalidate_address(session, channel, inbound.from_address, reason, actor, now)
    if account is None or account.id is None:
        return None  # a stranger's message is kept and audited; there is no account to act on
    note = f"{inbound.channel} reply, inbound {kept.id}"
    if reply.promised_on is not None:
        note += f": promised to pay on {reply.promised_on.isoformat()}"
    outcome = CONVERSATION_OUTCOMES[reply.intent]
    record_conversation(session, account.id, inbound.channel, now, outcome, note, actor, now)
    if reply.intent == replies.DISPUTE:
        why = f"Disputed by the customer's {inbound.channel} reply (inbound {kept.id})"
        hold = hold_in_force(session, account.id, DISPUTE, now.date()) or open_dispute(
            session, runtime.config, account.id, why, actor, now.date(), True, now
        )
        payload = _payload(inbound, kept, reply) | {"hold_id": hold.id}
        open_review(session, runtime.config.tasks, account.id, payload, actor, now)
    if reply.intent == replies.COMPLAINT:
        why = f"Complaint in the customer's {inbound.channel} reply (inbound {kept.id})"
        open_complaint(session, runtime.config.tasks, account.id, why, _payload(inbound, kept, reply), actor, now)
    if reply.intent == replies.CALLBACK:
        open_call_backs(session, runtime.config.tasks, {account.id: _payload(inbound, kept, reply)}, actor, now)
    acted = _negotiate(session, runtime, inbound, kept, reply, account, actor, now)
    if reply.intent in FOR_A_PERSON or not acted:
        _open_task(session, runtime, inbound, kept, reply, account.id, actor, now)
    return None


def _negotiate(
    session: Session,
    runtime: Runtime,
    inbound: Inbound,
    kept: InboundMessage,
    reply: replies.Reply,
    account: Account,
    actor: str,
    now: datetime,
) -> bool:
    """A YES accepts the account's one open offer; a dated promise becomes a promise to pay the balance (unless
    a plan already says what is due); stated income and expenses become an affordability statement. False when
    the reply could not be acted on (two open offers, a promise too far off, ...): a person then reads it."""
    assert account.id is not None
    try:
        if reply.intent == replies.ACCEPT:
            offers = session.scalars(
                sa.select(Offer).where(col(Offer.account_id) == account.id, col(Offer.status) == "open")
            ).all()
            if len(offers) != 1:
                return False
            accept_offer(session, runtime.config, offers[0].id, inbound.channel, actor, now.date(), now)  # type: ignore[arg-type]
        elif reply.intent == replies.PROMISE and reply.promised_on is not None and account.stage != stages.PLAN:
            customer = session.get(Customer, account.customer_id)
            today = now.astimezone(ZoneInfo(customer.time_zone)).date() if customer else now.date()
            balance, on = account.balance_minor, reply.promised_on
            make_promise(session, runtime.config, account.id, balance, on, inbound.channel, actor, now, today)
        elif reply.intent == replies.AFFORDABILITY and reply.means is not None:
            means, currency = reply.means, account.currency
            statement = Statement(
                to_minor(means.income, currency), to_minor(means.expenses, currency), means.dependants
            )
            note = f"inbound {kept.id}"
            record_statement(session, runtime.config, account.id, statement, inbound.channel, actor, now, note=note)
    except (OfferError, AffordabilityError, ValueError):
        return False
    return True


def _senders(session: Session, inbound: Inbound) -> list[int]:
    """The customers holding the sender's address, debtors before guarantors and third parties."""
    channels = IDENTIFYING_CHANNELS[inbound.channel]
    address = col(ContactPoint.address)
    matches = address == inbound.from_address
    if inbound.channel == "email":
        matches = sa.func.lower(address) == inbound.from_address.lower()
    query = sa.select(col(ContactPoint.customer_id), col(ContactPoint.party)).where(
        col(ContactPoint.channel).in_(channels), matches
    )
    rows = session.execute(query.order_by(col(ContactPoint.id))).all()
    ordered = sorted(rows, key=lambda row: row[1] != "debtor")
    return list(dict.fromkeys(customer_id for customer_id, _ in ordered))


def _account_about(session: Session, inbound: Inbound, customers: list[int]) -> Account | None:
    if not customers:
        return None
    last_sent = session.scalars(
        sa.select(col(OutreachMessage.account_id))
        .where(
            col(OutreachMessage.customer_id).in_(customers),
            col(OutreachMessage.channel).in_(IDENTIFYING_CHANNELS[inbound.channel]),
            col(OutreachMessage.address) == inbound.from_address,
            col(OutreachMessage.status) == "sent",
        )
        .order_by(col(OutreachMessage.sent_at).desc())
        .limit(1)
    ).first()
    if last_sent is not None:
        return session.get(Account, last_sent)
    return session.scalars(
        sa.select(Account)
        .where(col(Account.customer_id) == customers[0], col(Account.stage) != stages.CLOSED)
        .order_by(col(Account.id))
        .limit(1)
    ).first()


def _read(inbound: Inbound, today: date) -> replies.Reply:
    """A text is read whole. An email is read by its subject when that is a keyword (`unsubscribe`, the way
    a mail client's unsubscribe button writes), otherwise by its own words above the quoted message."""
    if inbound.channel != "email":
        return replies.classify(inbound.body, today)
    subject = (inbound.subject or "").strip()
    subject = subject[3:].strip() if subject.lower().startswith("re:") else subject
    word = replies.keyword(subject)
    if word is not None:
        return replies.Reply(word)
    return replies.classify(_own_words(inbound.body) or subject, today)


def _own_words(body: str) -> str:
    own: list[str] = []
    for line in body.splitlines():
        stripped = line.strip()
        if stripped.startswith(">") or stripped.startswith("-----Original Message") or _quote_header(stripped):
            break
        own.append(line)
    return "\n".join(own).strip()


def _quote_header(line: str) -> bool:
    """`On Tue, 10 Mar 2026, Bank <...> wrote:` or `在 2026年3月10日 ... 写道：`, the start of the quoted message."""
    return (line.startswith("On ") and line.endswith("wrote:")) or (line.startswith("在") and "写道" in line)


def _open_task(
    session: Session,
    runtime: Runtime,
    inbound: Inbound,
    kept: InboundMessage,
    reply: replies.Reply,
    account_id: int,
    actor: str,
    now: datetime,
) -> None:
    review = runtime.config.tasks.kind(TASK_KIND)
    task = HumanTask(
        kind=TASK_KIND,
        account_id=account_id,
        payload=_payload(inbound, kept, reply),
        role_needed=review.role,
        requested_by=actor,
        due_at=now + timedelta(hours=review.sla_hours),
        created_at=now,
    )
    session.add(task)
    session.flush()
    record(session, "task.created", actor, now, account_id, task_id=task.id, task_kind=TASK_KIND, intent=reply.intent)


def _payload(inbound: Inbound, kept: InboundMessage, reply: replies.Reply) -> dict[str, Any]:
    """What a task opened by a reply shows: the reply's words (personal numbers masked) and where it came from."""
    return {
        "inbound_id": kept.id,
        "channel": inbound.channel,
        "intent": reply.intent,
        "excerpt": redact(_own_words(inbound.body) if inbound.channel == "email" else inbound.body)[:EXCERPT],
        "attachments": len(inbound.attachments),
    }


def _keep_evidence(
    session: Session, runtime: Runtime, kept: InboundMessage, attachments: tuple[Attachment, ...], now: datetime
) -> None:
    for attachment in attachments:
        session.add(
            Evidence(
                inbound_id=kept.id,  # type: ignore[arg-type]
                account_id=kept.account_id,
                filename=attachment.filename[:255] or "attachment",
                content_type=attachment.content_type[:100] or "application/octet-stream",
                size_bytes=len(attachment.content),
                sha256=hashlib.sha256(attachment.content).hexdigest(),
                content_sealed=runtime.vault.seal_bytes(attachment.content),
                received_at=now,
            )
        )


def _queue_confirmation(session: Session, runtime: Runtime, inbound: Inbound, customer_id: int, now: datetime) -> None:
    """The one text an opt-out allows: that it worked, and how to undo it. It goes through the outbox, so the
    guard (which lets this purpose through an opt-out) and the contact window still apply."""
    account = session.scalars(
        sa.select(Account).where(col(Account.customer_id) == customer_id).order_by(col(Account.id)).limit(1)
    ).first()
    customer = session.get(Customer, customer_id)
    if account is None or customer is None:
        return
    rendered = runtime.renderer.render(
        CONFIRMATION, "sms", customer.locale, message_context(runtime.sender, customer, account)
    )
    key = f"{CONFIRMATION}:{inbound.provider}:{inbound.provider_id}:{customer_id}"
    row = {
        "idempotency_key": key,
        "account_id": account.id,
        "customer_id": customer_id,
        "channel": "sms",
        "address": inbound.from_address,
        "template": CONFIRMATION,
        "locale": customer.locale,
        "stage": account.stage,
        "step": CONFIRMATION,
        "purpose": CONFIRMATION,
        "subject": None,
        "body": rendered.body,
        "status": "queued",
        "send_at": now,
        "created_at": now,
    }
    insert_ignoring_conflicts(session, OutreachMessage, [row], ["idempotency_key"])
    record(session, "message.queued", "system:inbound", now, account.id, key=key, channel="sms", purpose=CONFIRMATION)


def _help_text(runtime: Runtime, customer: Customer | None) -> str:
    locale = customer.locale if customer else "en-US"
    context = {
        "business_name": runtime.sender.business_name,
        "callback_phone": runtime.sender.callback_phone,
        "opt_out": OPT_OUT.get(locale, OPT_OUT["en-US"]),
    }
    return runtime.renderer.render(HELP_TEMPLATE, "sms", locale, context).body
