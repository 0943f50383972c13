"""An agent's phone call, logged once with everything it set in motion.

The conversation itself (right-party contact, outcome, a promise with its date and amount) goes through
overdue/services/conversations.py, where the contact guard and the metrics read it. A dispute places the
dispute hold at once (collection stops) and opens a dispute review; a hardship report opens a hardship review;
the documents the customer sent (bank statements, a doctor's letter) are attached to that review, sealed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from overdue.runtime import Runtime
from overdue.services.conversations import ConversationError, record_conversation
from overdue.services.disputes import open_dispute
from overdue.services.tasks import attach, open_task
from overdue.store.tables import Conversation, HumanTask

REVIEWS = {"dispute": "dispute_review", "hardship": "hardship_review"}


@dataclass(frozen=True, slots=True)
class Document:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True, slots=True)
class CallReport:
    account_id: int
    at: datetime
    outcome: str
    note: str = ""
    right_party: bool = True
    promised_on: date | None = None
    promised_minor: int | None = None
    documents: tuple[Document, ...] = ()
    channel: str = "voice"  # or in_person, sms, email: a conversation reported the same way


@dataclass(frozen=True, slots=True)
class LoggedCall:
    conversation: Conversation
    review: HumanTask | None
    hold_id: int | None


def log_call(session: Session, runtime: Runtime, report: CallReport, user: str, now: datetime) -> LoggedCall:
    review_kind = REVIEWS.get(report.outcome)
    if report.documents and review_kind is None:
        raise ConversationError("documents go with a dispute or a hardship report (outcome dispute or hardship)")
    if report.outcome == "promise_to_pay" and report.promised_on is None:
        raise ConversationError("a promise to pay needs the promised date")
    conversation = record_conversation(
        session,
        report.account_id,
        report.channel,
        report.at,
        report.outcome,
        report.note,
        user,
        now,
        right_party=report.right_party,
        promised_on=report.promised_on,
        promised_minor=report.promised_minor,
    )
    hold_id = None
    if report.outcome == "dispute":
        hold = open_dispute(
            session,
            runtime.config,
            report.account_id,
            report.note or "disputed on a call",
            user,
            report.at.date(),
            False,
            now,
        )
        hold_id = hold.id
    review = None
    if review_kind is not None:
        payload = {"conversation_id": conversation.id, "note": report.note, "documents": len(report.documents)}
        review = open_task(session, runtime.config.tasks, review_kind, report.account_id, payload, user, now)
        for document in report.documents:
            attach(
                session,
                runtime.vault,
                review.id,  # type: ignore[arg-type]
                document.filename,
                document.content_type,
                document.content,
                user,
                now,
                "sent by the customer, reported on a call",
            )
    return LoggedCall(conversation, review, hold_id)
