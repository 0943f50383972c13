"""Simulated customers and ops staff reacting to the system, one day at a time.

They act only through the same services a real payment feed, agent or approver uses. Every random
draw is seeded by (seed, subject, day, purpose), so results do not depend on iteration order.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import sqlalchemy as sa
from pydantic import Field, field_validator
from sqlmodel import Session, col

from overdue.config.loader import load_model
from overdue.config.models import ROLES, Strict
from overdue.domain import stages
from overdue.runtime import Runtime
from overdue.services.audit import held_back
from overdue.services.contact_guard import VULNERABILITY_REVIEW, WAS_SENT
from overdue.services.contact_preferences import opt_out
from overdue.services.conversations import record_conversation
from overdue.services.cycle import LEGAL_ESCALATION
from overdue.services.decisions import DecisionError, decide_task
from overdue.services.disputes import open_dispute, verify_dispute
from overdue.services.holds import DISPUTE, HoldError
from overdue.services.offers import Acceptance, OfferError, accept_offers
from overdue.services.payments import PaymentIn, record_payments
from overdue.services.plans import make_promise
from overdue.services.tasks import approvers
from overdue.sim.portfolio import SEGMENTS, segment_of
from overdue.store.tables import Account, Hold, HumanTask, Installment, Offer, OutreachMessage, PaymentPlan

BALANCE = col(Account.principal_minor) + col(Account.interest_minor) + col(Account.fees_minor)


Probabilities = dict[str, float]  # per behaviour segment: steady, forgetful, strained, distressed


class BehaviourModel(Strict):
    """How simulated customers and ops staff behave: configs/simulation.yaml (`overdue simulate --behaviour`)."""

    pay_when_contacted: Probabilities
    pay_otherwise: Probabilities
    partial_share: Probabilities
    accept_offer: Probabilities
    keep_installment: Probabilities
    answer_call: Probabilities
    stop_reply: float = Field(ge=0, le=1)
    dispute_after_notice: float = Field(ge=0, le=1)
    verify_delay_days: tuple[int, int]
    ops_staff: tuple[str, ...] = Field(min_length=2)
    approve_share: float = Field(ge=0, le=1)
    decision_delay_days: tuple[int, int]

    @field_validator(
        "pay_when_contacted", "pay_otherwise", "partial_share", "accept_offer", "keep_installment", "answer_call"
    )
    @classmethod
    def _every_segment(cls, values: Probabilities) -> Probabilities:
        if set(values) != set(SEGMENTS):
            raise ValueError(f"give a probability for each segment: {', '.join(SEGMENTS)}")
        if any(not 0 <= p <= 1 for p in values.values()):
            raise ValueError("probabilities are between 0 and 1")
        return values


def load_behaviour(path: Path) -> BehaviourModel:
    return load_model(path, BehaviourModel)


@dataclass
class DayOutcome:
    payments: int = 0
    collected_minor: dict[str, int] = field(default_factory=dict)
    offers_accepted: int = 0
    tasks_decided: int = 0
    conversations: int = 0
    opt_outs: int = 0
    disputes_opened: int = 0
    disputes_verified: int = 0


def draw(seed: int, *parts: object) -> random.Random:
    return random.Random(":".join(str(p) for p in (seed, *parts)))


def chance(seed: int, *parts: object) -> float:
    """One uniform draw in [0, 1) fixed by its parts, a quarter of the cost of `draw(...).random()`: asked for
    every open account on every simulated day."""
    digest = hashlib.blake2b(":".join(str(p) for p in (seed, *parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest) / 2**64


def simulate_day(session: Session, runtime: Runtime, model: BehaviourModel, seed: int, day: date) -> DayOutcome:
    """The day's customers and staff, their audit events written together at the end (nothing here reads
    them back)."""
    with held_back(session):
        return _simulate_day(session, runtime, model, seed, day)


def _simulate_day(session: Session, runtime: Runtime, model: BehaviourModel, seed: int, day: date) -> DayOutcome:
    now = datetime.combine(day, time(20, 0), tzinfo=UTC)
    outcome = DayOutcome()
    contacted = _contacted_on(session, day)
    payments = _customer_payments(session, model, seed, day, contacted)
    payments += _installment_payments(session, model, seed, day)
    results = record_payments(session, runtime.config, payments, "sim:customer", now)
    outcome.payments = results.recorded
    for payment in payments:
        outcome.collected_minor[payment.currency] = (
            outcome.collected_minor.get(payment.currency, 0) + payment.amount_minor
        )
    outcome.offers_accepted = _accept_offers(session, runtime, model, seed, day, contacted, now)
    outcome.tasks_decided = _ops_decisions(session, model, seed, day, now)
    outcome.conversations, outcome.opt_outs, outcome.disputes_opened = _replies(session, runtime, model, seed, day, now)
    outcome.disputes_verified = _verify_disputes(session, runtime, model, seed, day, now)
    return outcome


def _contacted_on(session: Session, day: date) -> set[int]:
    start = datetime.combine(day, time(), tzinfo=UTC)
    return set(
        session.scalars(
            sa.select(col(OutreachMessage.account_id)).where(
                WAS_SENT,
                col(OutreachMessage.sent_at) >= start,
                col(OutreachMessage.sent_at) < start + timedelta(days=1),
            )
        )
    )


OUTCOME_BY_SEGMENT = {"steady": "promise_to_pay", "forgetful": "promise_to_pay", "strained": "hardship"}


def _replies(
    session: Session, runtime: Runtime, model: BehaviourModel, seed: int, day: date, now: datetime
) -> tuple[int, int, int]:
    """Customers answer some calls (a conversation), reply STOP to some texts, and dispute some notices."""
    start = datetime.combine(day, time(), tzinfo=UTC)
    sent = session.execute(
        sa.select(
            col(OutreachMessage.account_id),
            col(OutreachMessage.channel),
            col(OutreachMessage.purpose),
            col(OutreachMessage.sent_at),
            col(Account.external_ref),
        )
        .join(Account, col(Account.id) == col(OutreachMessage.account_id))
        .where(
            WAS_SENT,
            col(OutreachMessage.sent_at) >= start,
            col(OutreachMessage.sent_at) < now,
        )
        .order_by(col(OutreachMessage.id))
    ).all()
    talks = stops = disputes = 0
    for account_id, channel, purpose, sent_at, ref in sent:
        rng = draw(seed, account_id, sent_at, "reply")
        segment = segment_of(ref, seed)
        if channel == "voice" and purpose == "collection" and rng.random() < model.answer_call[segment]:
            at = min(sent_at + timedelta(minutes=4), now)
            outcome = OUTCOME_BY_SEGMENT.get(segment, "refused")
            record_conversation(session, account_id, "voice", at, outcome, "", "sim:agent", now)
            if outcome == "promise_to_pay":
                _promise(session, runtime, account_id, day + timedelta(days=rng.randint(2, 10)), now)
            talks += 1
        elif channel == "sms" and rng.random() < model.stop_reply:
            stops += opt_out(session, account_id, "sms", "STOP reply", "sim:customer", now) > 0
        elif purpose == "validation" and rng.random() < model.dispute_after_notice:
            open_dispute(session, runtime.config, account_id, "Disputes the amount", "sim:agent", day, True, now)
            disputes += 1
    return talks, stops, disputes


def _promise(session: Session, runtime: Runtime, account_id: int, on: date, now: datetime) -> None:
    """The agent takes the promise the customer made on the call: the balance by a date a few days off. It is
    kept (or not) like any installment, by `keep_installment`."""
    balance = session.scalar(sa.select(BALANCE).where(col(Account.id) == account_id)) or 0
    try:
        make_promise(session, runtime.config, account_id, balance, on, "agent", "sim:agent", now)
    except OfferError:
        return  # already on a plan or a promise, or nothing owed: the conversation is recorded all the same


def _verify_disputes(
    session: Session, runtime: Runtime, model: BehaviourModel, seed: int, day: date, now: datetime
) -> int:
    """Ops check each dispute within days and send the verification; collection then resumes."""
    open_disputes = session.execute(
        sa.select(col(Hold.id), col(Hold.starts_on)).where(
            col(Hold.kind) == DISPUTE, col(Hold.ends_on).is_(None), col(Hold.created_by) == "sim:agent"
        )
    ).all()
    verified = 0
    for hold_id, starts_on in open_disputes:
        rng = draw(seed, "dispute", hold_id)
        if starts_on + timedelta(days=rng.randint(*model.verify_delay_days)) > day:
            continue
        try:
            verify_dispute(
                session, runtime.renderer, runtime.sender, hold_id, "Balance matches the statements", "ops.bo", now
            )
        except HoldError:
            continue  # no postal address on file: a person has to find another way to send it
        verified += 1
    return verified


def _customer_payments(
    session: Session, model: BehaviourModel, seed: int, day: date, contacted: set[int]
) -> list[PaymentIn]:
    rows = session.execute(
        sa.select(col(Account.id), col(Account.external_ref), BALANCE, col(Account.currency)).where(
            col(Account.stage).in_([stages.REMINDER, stages.NEGOTIATION])
        )
    ).all()
    payments = []
    for account_id, ref, balance, currency in rows:
        segment = segment_of(ref, seed)
        likelihood = (model.pay_when_contacted if account_id in contacted else model.pay_otherwise)[segment]
        if balance <= 0 or chance(seed, account_id, day, "pay") >= likelihood:
            continue
        amount = balance
        rng = draw(seed, account_id, day, "amount")
        if rng.random() < model.partial_share[segment]:
            amount = max(1, balance * rng.randint(20, 70) // 100)
        payments.append(PaymentIn(f"sim-{seed}-{account_id}-{day}", account_id, amount, currency, day, "sim"))
    return payments


def _installment_payments(session: Session, model: BehaviourModel, seed: int, day: date) -> list[PaymentIn]:
    """Customers on a plan pay on the due date, or a couple of days late, or not at all."""
    rows = session.execute(
        sa.select(
            col(Account.id),
            col(Account.external_ref),
            col(Account.currency),
            col(Installment.due_date),
            col(Installment.amount_minor),
            col(Installment.paid_minor),
        )
        .join(PaymentPlan, col(PaymentPlan.account_id) == col(Account.id))
        .join(Installment, col(Installment.plan_id) == col(PaymentPlan.id))
        .where(
            col(PaymentPlan.status) == "active",
            col(Installment.paid_minor) < col(Installment.amount_minor),
            col(Installment.due_date).in_([day, day - timedelta(days=2)]),
        )
    ).all()
    payments = []
    for account_id, ref, currency, due, amount, paid in rows:
        keep = model.keep_installment[segment_of(ref, seed)]
        chance = keep if due == day else keep / 2
        if draw(seed, account_id, due, "installment", day).random() < chance:
            payments.append(
                PaymentIn(f"sim-{seed}-{account_id}-{day}-i", account_id, amount - paid, currency, day, "sim")
            )
    return payments


def _accept_offers(
    session: Session, runtime: Runtime, model: BehaviourModel, seed: int, day: date, contacted: set[int], now: datetime
) -> int:
    rows = session.execute(
        sa.select(col(Offer.id), col(Account.id), col(Account.external_ref))
        .join(Account, col(Account.id) == col(Offer.account_id))
        .where(col(Offer.status) == "open", col(Account.stage) == stages.NEGOTIATION, col(Offer.expires_on) >= day)
    ).all()
    acceptances = []
    for offer_id, account_id, ref in rows:
        if account_id not in contacted:
            continue
        rng = draw(seed, account_id, day, "offer")
        if rng.random() < model.accept_offer[segment_of(ref, seed)]:
            via = rng.choice(("sms", "phone"))
            acceptances.append(Acceptance(offer_id, via, f"sim-call-{offer_id}" if via == "phone" else None))
    return len(accept_offers(session, runtime.config, acceptances, "sim:customer", day, now))


REASONS = {
    (LEGAL_ESCALATION, True): "Criteria met; non-litigation means exhausted",
    (LEGAL_ESCALATION, False): "Customer engaging; try another plan first",
    (VULNERABILITY_REVIEW, True): "Spoke with the customer; support agreed, reminders may continue",
    (VULNERABILITY_REVIEW, False): "Refer to specialist support; no further reminders for now",
}


def _ops_decisions(session: Session, model: BehaviourModel, seed: int, day: date, now: datetime) -> int:
    """Approvers decide each open task after a few days, approving a configured share. The simulated team holds
    every role; a large escalation's second approval comes from another person on a later day."""
    tasks = session.execute(
        sa.select(col(HumanTask.id), col(HumanTask.kind), col(HumanTask.version), col(HumanTask.created_at)).where(
            col(HumanTask.status) == "open", col(HumanTask.kind).in_(list({kind for kind, _ in REASONS}))
        )
    ).all()
    decided = 0
    for task_id, kind, version, created_at in tasks:
        rng = draw(seed, "task", task_id)
        delay = rng.randint(*model.decision_delay_days)
        if created_at.date() + timedelta(days=delay) > day:
            continue
        approve = rng.random() < model.approve_share
        decision = "approve" if approve else "reject"
        approved_by = approvers(session, task_id)
        person = rng.choice([p for p in model.ops_staff if p not in approved_by])  # a second approver differs
        try:
            decide_task(session, task_id, version, decision, REASONS[(kind, approve)], person, now, ROLES)
        except DecisionError:
            continue  # the account moved on since the task was opened: the approver is told so and moves on
        decided += 1
    return decided
