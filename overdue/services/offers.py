"""Accepting an offer turns it into a payment plan with a schedule that sums exactly to the total."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session

from overdue.config import Configuration
from overdue.domain import stages
from overdue.domain.guard import COLLECTION
from overdue.domain.money import split_evenly
from overdue.domain.offers import installment_dates
from overdue.services.audit import record, record_many, stage_changed
from overdue.services.decisions import withdraw_open_escalations
from overdue.services.outreach import cancel_queued
from overdue.store.tables import Account, Customer, Installment, Offer, PaymentPlan

ACCEPTANCE_CHANNELS = ("phone", "sms", "email", "in_person", "self_service")


class OfferError(ValueError):
    pass


def accept_offer(
    session: Session, config: Configuration, offer_id: int, via: str, actor: str, today: date, now: datetime
) -> PaymentPlan:
    if via not in ACCEPTANCE_CHANNELS:
        raise OfferError(f"unknown acceptance channel '{via}' (one of {', '.join(ACCEPTANCE_CHANNELS)})")
    offer = session.get(Offer, offer_id)
    if offer is None:
        raise OfferError(f"offer {offer_id} does not exist")
    if offer.status != "open" or offer.expires_on < today:
        raise OfferError(f"offer {offer_id} is {offer.status if offer.status != 'open' else 'expired'}")
    account = session.get(Account, offer.account_id)
    assert account is not None
    customer = session.get(Customer, account.customer_id)
    assert customer is not None
    bounds = config.offers.installment.for_jurisdiction(customer.jurisdiction)
    offer.status, offer.accepted_at, offer.accepted_via, offer.accepted_by = "accepted", now, via, actor
    plan = PaymentPlan(
        account_id=account.id,  # type: ignore[arg-type]
        offer_id=offer.id,
        total_minor=offer.total_minor,
        grace_days=bounds.grace_days,
        created_on=today,
    )
    session.add_all([offer, plan])
    session.flush()
    amounts = split_evenly(offer.total_minor, offer.installments)
    for seq, (due, amount) in enumerate(
        zip(installment_dates(offer.first_due_date, offer.installments), amounts, strict=True), 1
    ):
        session.add(Installment(plan_id=plan.id, seq=seq, due_date=due, amount_minor=amount))  # type: ignore[arg-type]
    previous = account.stage
    account.stage, account.stage_entered_on, account.next_action_on = stages.PLAN, today, today
    account.version += 1
    session.add(account)
    withdraw_open_escalations(session, account.id, "a payment plan was accepted", actor, now)  # type: ignore[arg-type]
    # Offers and reminders queued for negotiation are wrong now; the plan's own reminders come from its cadence.
    cancel_queued(session, account.id, "a payment plan was accepted", actor, now, purposes=(COLLECTION,))  # type: ignore[arg-type]
    record(session, "offer.accepted", actor, now, account.id, offer_id=offer.id, via=via)
    record(
        session,
        "plan.created",
        actor,
        now,
        account.id,
        plan_id=plan.id,
        installments=offer.installments,
        total_minor=offer.total_minor,
    )
    record_many(session, stage_changed(actor, now, account.id, previous, stages.PLAN))  # type: ignore[arg-type]
    return plan
