"""An agent's phone call, logged once with everything it set in motion.

The conversation itself (right-party contact, outcome, a promise with its date and amount) goes through
overdue/services/conversations.py, where the contact guard and the metrics read it. A dispute places the
dispute hold at once (collection stops) and opens a dispute review; a hardship report places the hardship hold
(collection pauses while a supervisor looks) and opens a hardship review; the documents the customer sent (bank
statements, a doctor's letter) are attached to that review, sealed. A complaint places the complaint hold and
opens a complaint (overdue/services/complaints.py); a request to be called back opens an `agent_call` task. A
promise to pay becomes a promise plan (overdue/services/plans.py), judged kept or broken like one made by SMS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from overdue.domain import stages
from overdue.runtime import Runtime
from overdue.services.affordability import HARDSHIP, hardship_hold
from overdue.services.call_backs import open_call_backs
from overdue.services.complaints import COMPLAINT, open_complaint
from overdue.services.conversations import ConversationError, record_conversation
from overdue.services.disputes import DISPUTE_REVIEW, open_dispute
from overdue.services.holds import place_hold
from overdue.services.offers import OfferError
from overdue.services.plans import make_promise
from overdue.services.refusal_texts import refusal
from overdue.services.tasks import attach, open_task
from overdue.store.tables import Account, Conversation, HumanTask, PaymentPlan

REVIEWS = {"dispute": DISPUTE_REVIEW, HARDSHIP: "hardship_review"}


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
    promise: PaymentPlan | None = None


def log_call(session: Session, runtime: Runtime, report: CallReport, user: str, now: datetime) -> LoggedCall:
    review_kind = REVIEWS.get(report.outcome)
    if report.documents and review_kind is None:
        raise ConversationError(refusal("documents_without_review"))
    if report.outcome == "promise_to_pay" and report.promised_on is None:
        raise ConversationError(refusal("promise_needs_date"))
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
    promise = _track_promise(session, runtime, report, user, now) if report.outcome == "promise_to_pay" else None
    hold_id = _hold_for(session, runtime, report, user, now)
    payload = {"conversation_id": conversation.id, "note": report.note}
    if report.outcome == COMPLAINT:
        why = report.note or "complaint made on a call"
        open_complaint(session, runtime.config.tasks, report.account_id, why, payload, user, now)
    elif report.outcome == "callback_requested":
        open_call_backs(session, runtime.config.tasks, {report.account_id: payload}, user, now)
    review = None
    if review_kind is not None:
        payload = payload | {"documents": len(report.documents), "hold_id": hold_id}
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
    return LoggedCall(conversation, review, hold_id, promise)


def _hold_for(session: Session, runtime: Runtime, report: CallReport, user: str, now: datetime) -> int | None:
    """A dispute stops collection until it is verified; reported hardship pauses it until the review decides
    (an account under a hardship hold already keeps that one)."""
    if report.outcome == "dispute":
        why = report.note or "disputed on a call"
        return open_dispute(session, runtime.config, report.account_id, why, user, report.at.date(), False, now).id
    if report.outcome == HARDSHIP:
        held = hardship_hold(session, report.account_id, now.date())
        if held is None:
            why = report.note or "hardship reported on a call"
            held = place_hold(session, report.account_id, HARDSHIP, why, user, now.date(), now)
        return held.id
    return None


def _track_promise(
    session: Session, runtime: Runtime, report: CallReport, user: str, now: datetime
) -> PaymentPlan | None:
    """The promised amount (the balance when none was said) by the promised date; an account already on a plan
    has its next installment for a promise. A promise outside the policy's bounds is refused, so the agent
    offers a plan instead."""
    account = session.get(Account, report.account_id)
    if account is None or account.stage == stages.PLAN:
        return None
    assert report.promised_on is not None
    amount = report.promised_minor or account.balance_minor
    try:
        return make_promise(
            session,
            runtime.config,
            report.account_id,
            amount,
            report.promised_on,
            "agent",  # whoever took the call records it, by phone or in person
            user,
            now,
            report.at.date(),
        )
    except OfferError as refused:
        raise ConversationError(str(refused)) from None
