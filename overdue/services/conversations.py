"""Conversations with customers, as agents log them. A telephone conversation about a debt stops calls
on it for the policy's cool-off (US: 7 days, the conversation day counting as day 1)."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session

from overdue.domain.refusals import Refused
from overdue.services.audit import record
from overdue.services.refusal_texts import refusal
from overdue.store.tables import Account, Conversation

CONVERSATION_CHANNELS = ("voice", "sms", "email", "in_person")
OUTCOMES = (
    "promise_to_pay",
    "paid",
    "hardship",
    "dispute",
    "complaint",
    "plan_requested",
    "offer_accepted",
    "affordability",
    "refused",
    "callback_requested",
    "wrong_party",
    "other",
)


class ConversationError(Refused):
    pass


def record_conversation(
    session: Session,
    account_id: int,
    channel: str,
    at: datetime,
    outcome: str,
    note: str,
    user: str,
    now: datetime,
    *,
    right_party: bool = True,
    promised_on: date | None = None,
    promised_minor: int | None = None,
) -> Conversation:
    """Log a conversation; `at` is when it happened (an agent may log a call after hanging up). Whether the agent
    spoke with the debtor (right-party contact) and what was promised feed the contact metrics; only a
    right-party telephone conversation starts the no-call cool-off."""
    if channel not in CONVERSATION_CHANNELS:
        raise ConversationError(refusal("unknown_channel", channel=channel, choices=", ".join(CONVERSATION_CHANNELS)))
    if outcome not in OUTCOMES:
        raise ConversationError(refusal("unknown_outcome", outcome=outcome, choices=", ".join(OUTCOMES)))
    if at > now:
        raise ConversationError(refusal("conversation_in_future", at=at.isoformat()))
    if session.get(Account, account_id) is None:
        raise ConversationError(refusal("no_account", account=account_id))
    if outcome == "wrong_party":
        right_party = False
    if promised_minor is not None and (promised_minor <= 0 or promised_on is None):
        raise ConversationError(refusal("promise_incomplete"))
    if promised_on is not None and promised_on < at.date():
        raise ConversationError(refusal("promise_before_conversation", on=promised_on))
    conversation = Conversation(
        account_id=account_id,
        channel=channel,
        at=at,
        outcome=outcome,
        right_party=right_party,
        promised_on=promised_on,
        promised_minor=promised_minor,
        note=note.strip(),
        recorded_by=user,
        created_at=now,
    )
    session.add(conversation)
    session.flush()
    record(
        session,
        "conversation",
        user,
        at,
        account_id,
        conversation_id=conversation.id,
        channel=channel,
        outcome=outcome,
        right_party=right_party,
        promised_on=promised_on.isoformat() if promised_on else None,
        promised_minor=promised_minor,
    )
    return conversation
