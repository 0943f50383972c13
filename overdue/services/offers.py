"""Offers: made by the cycle or an agent within the configured bounds (outside them they wait for approval),
and accepted by an agent (phone with a recording reference, in person), an SMS reply or self-service. An
accepted offer becomes a payment plan with the schedule the customer was shown."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from overdue.config import Configuration
from overdue.config.offer_policy import OfferPolicy
from overdue.domain import stages
from overdue.domain.guard import COLLECTION
from overdue.domain.offers import Due, Facts, OfferRefused, OfferTerms, Request, build_offer, monthly_schedule
from overdue.domain.plans import PROMISE
from overdue.domain.validation import public_holidays
from overdue.services.affordability import hardship_hold, latest_capacity
from overdue.services.audit import audit_row, held_back, record, record_many, stage_changed
from overdue.services.decisions import withdraw_open_escalations
from overdue.services.outreach import cancel_queued
from overdue.store.bulk import insert_rows
from overdue.store.tables import Account, Customer, HumanTask, Installment, Offer, PaymentPlan

ACCEPTANCE_CHANNELS = ("phone", "sms", "email", "in_person", "self_service")
ORAL = ("phone",)  # an oral agreement is only as good as its recording (CN: kept until the debt is settled)
OFFER_APPROVAL = "offer_approval"


class OfferError(ValueError):
    pass


def offer_policy(config: Configuration, customer: Customer, account: Account) -> OfferPolicy:
    return config.offers.policy(customer.jurisdiction, account.product)


def account_facts(session: Session, config: Configuration, account: Account, today: date) -> Facts:
    """Everything an offer depends on: balance, the jurisdiction's holidays, capacity, hardship, broken plans."""
    customer = session.get(Customer, account.customer_id)
    assert customer is not None
    return Facts(
        balance_minor=account.balance_minor,
        currency=account.currency,
        today=today,
        closed=public_holidays(config.policy(customer.jurisdiction).holiday_country),
        capacity_minor=latest_capacity(session, customer.id, account.currency),  # type: ignore[arg-type]
        hardship=hardship_hold(session, account.id, today) is not None,  # type: ignore[arg-type]
        broken_plans=account.broken_plans,
    )


def offer_row(account_id: int, terms: OfferTerms, today: date, actor: str, status: str) -> dict[str, Any]:
    """The offer as a row: the cycle inserts many at once, an agent one."""
    return {
        "account_id": account_id,
        "kind": terms.kind,
        "status": status,
        "total_minor": terms.total_minor,
        "installments": terms.installments,
        "first_due_date": terms.first_due_date,
        "created_on": today,
        "expires_on": terms.expires_on,
        "balance_minor": terms.balance_minor,
        "discount_minor": terms.discount_minor,
        "schedule": [{"due_date": d.due_date.isoformat(), "amount_minor": d.amount_minor} for d in terms.schedule],
        "interest": terms.interest,
        "fees": terms.fees,
        "on_kept": terms.on_kept,
        "outside_bounds": list(terms.outside_bounds),
        "approvals_needed": terms.approvals_needed,
        "requested_by": actor,
    }


def make_offer(
    session: Session, config: Configuration, account_id: int, request: Request, actor: str, now: datetime
) -> Offer:
    """Within the bounds the offer is open at once; otherwise it waits for approval in an `offer_approval` task
    (one approver, or two different ones above the second thresholds), never approved by `actor`."""
    account = session.get(Account, account_id)
    if account is None:
        raise OfferError(f"account {account_id} does not exist")
    if account.stage in (stages.CLOSED, stages.LEGAL):
        raise OfferError(f"account {account_id} is {account.stage}; no offer can be made")
    today = now.date()
    customer = session.get(Customer, account.customer_id)
    assert customer is not None
    policy = offer_policy(config, customer, account)
    try:
        terms = build_offer(request, account_facts(session, config, account, today), policy)
    except OfferRefused as exc:
        raise OfferError(str(exc)) from None
    status = "pending_approval" if terms.approvals_needed else "open"
    offer = Offer.model_validate(offer_row(account_id, terms, today, actor, status))
    session.add(offer)
    session.flush()
    record(
        session,
        "offer.made",
        actor,
        now,
        account_id,
        offer_id=offer.id,
        offer_kind=terms.kind,
        total_minor=terms.total_minor,
        discount_minor=terms.discount_minor,
        installments=terms.installments,
        outside_bounds=list(terms.outside_bounds),
        approvals_needed=terms.approvals_needed,
    )
    if terms.approvals_needed:
        _open_approval(session, offer, terms, policy, actor, now)
    return offer


def _open_approval(
    session: Session, offer: Offer, terms: OfferTerms, policy: OfferPolicy, actor: str, now: datetime
) -> None:
    task = HumanTask(
        kind=OFFER_APPROVAL,
        account_id=offer.account_id,
        payload={
            "offer_id": offer.id,
            "offer_kind": terms.kind,
            "total_minor": terms.total_minor,
            "balance_minor": terms.balance_minor,
            "discount_minor": terms.discount_minor,
            "discount_pct": str(terms.discount_pct),
            "installments": terms.installments,
            "reasons": list(terms.outside_bounds) or ["settlement above the approval thresholds"],
            "approvals_needed": terms.approvals_needed,
            "approvals": [],
        },
        role_needed=policy.approvals.role,
        requested_by=actor,
        due_at=now + timedelta(hours=policy.approvals.sla_hours),
        created_at=now,
    )
    session.add(task)
    session.flush()
    record(
        session,
        "task.created",
        actor,
        now,
        offer.account_id,
        task_id=task.id,
        task_kind=OFFER_APPROVAL,
        offer_id=offer.id,
        approvals_needed=terms.approvals_needed,
    )


def schedule_of(offer: Offer, closed: Any) -> tuple[Due, ...]:
    """The schedule written with the offer; offers from before schedules were stored get the monthly one."""
    if offer.schedule:
        return tuple(Due(date.fromisoformat(d["due_date"]), int(d["amount_minor"])) for d in offer.schedule)
    return monthly_schedule(offer.total_minor, offer.installments, offer.first_due_date, closed)


@dataclass(frozen=True)
class Acceptance:
    """A customer's yes to an offer: how it came (`ACCEPTANCE_CHANNELS`), with the call recording if oral."""

    offer_id: int
    via: str
    recording_ref: str | None = None


def accept_offer(
    session: Session,
    config: Configuration,
    offer_id: int,
    via: str,
    actor: str,
    today: date,
    now: datetime,
    recording_ref: str | None = None,
) -> PaymentPlan:
    """Audited as `offer.accepted` with how and by whom; the plan starts, the account's other offers are
    withdrawn, and queued collection messages and undecided escalations stop."""
    return accept_offers(session, config, [Acceptance(offer_id, via, recording_ref)], actor, today, now)[0]


def accept_offers(
    session: Session, config: Configuration, acceptances: Sequence[Acceptance], actor: str, today: date, now: datetime
) -> list[PaymentPlan]:
    """Accept each offer in turn as `accept_offer` does one, the first that cannot be accepted raising
    OfferError. The offers, their accounts, jurisdictions, active plans and other open offers are read in one
    go, and the schedules and audit events written in one statement each: a simulated day accepts hundreds."""
    if not acceptances:
        return []
    known = _Acceptances.load(session, [a.offer_id for a in acceptances])
    plans: list[PaymentPlan] = []
    schedules: list[dict[str, Any]] = []
    with held_back(session), session.no_autoflush:
        for acceptance in acceptances:
            plan, schedule = _accept(session, config, known, acceptance, actor, today, now)
            plans.append(plan)
            schedules += schedule
    insert_rows(session, Installment, schedules)
    session.flush()
    return plans


@dataclass
class _Acceptances:
    """What accepting a batch of offers reads: the offers, their accounts with the customers' jurisdictions,
    the accounts' active plans and every offer of theirs still open or pending. Kept current as each is
    accepted, so two acceptances for one account meet what the first did."""

    offers: dict[int, Offer]
    accounts: dict[int, tuple[Account, str]]
    active_plans: dict[int, PaymentPlan]
    pending_offers: dict[int, set[int]]  # account id -> its open and pending offers

    @classmethod
    def load(cls, session: Session, offer_ids: list[int]) -> _Acceptances:
        query = sa.select(Offer).where(col(Offer.id).in_(offer_ids))
        offers: dict[int, Offer] = {offer.id: offer for offer in session.scalars(query)}  # type: ignore[misc]
        account_ids = sorted({offer.account_id for offer in offers.values()})
        accounts = {
            account.id: (account, jurisdiction)
            for account, jurisdiction in session.execute(
                sa.select(Account, col(Customer.jurisdiction))
                .join(Customer, col(Customer.id) == col(Account.customer_id))
                .where(col(Account.id).in_(account_ids))
            ).tuples()
        }
        plans = session.scalars(
            sa.select(PaymentPlan).where(
                col(PaymentPlan.account_id).in_(account_ids), col(PaymentPlan.status) == "active"
            )
        )
        pending: dict[int, set[int]] = {account_id: set() for account_id in account_ids}
        for offer_id, account_id in session.execute(
            sa.select(col(Offer.id), col(Offer.account_id)).where(
                col(Offer.account_id).in_(account_ids), col(Offer.status).in_(("open", "pending_approval"))
            )
        ):
            pending[account_id].add(offer_id)
        return cls(offers, accounts, {plan.account_id: plan for plan in plans}, pending)  # type: ignore[misc]


def _accept(
    session: Session,
    config: Configuration,
    known: _Acceptances,
    acceptance: Acceptance,
    actor: str,
    today: date,
    now: datetime,
) -> tuple[PaymentPlan, list[dict[str, Any]]]:
    """One acceptance; returns the plan and its installments, for the caller to write with the others'."""
    offer_id, via = acceptance.offer_id, acceptance.via
    if via not in ACCEPTANCE_CHANNELS:
        raise OfferError(f"unknown acceptance channel '{via}' (one of {', '.join(ACCEPTANCE_CHANNELS)})")
    recording_ref = (acceptance.recording_ref or "").strip() or None
    if via in ORAL and recording_ref is None:
        raise OfferError("an oral agreement needs the reference of its call recording (--recording)")
    offer = known.offers.get(offer_id)
    if offer is None:
        raise OfferError(f"offer {offer_id} does not exist")
    if offer.status != "open" or offer.expires_on < today:
        raise OfferError(f"offer {offer_id} is {offer.status if offer.status != 'open' else 'expired'}")
    account, jurisdiction = known.accounts[offer.account_id]
    assert account.id is not None
    if account.stage in (stages.CLOSED, stages.LEGAL):
        raise OfferError(f"account {account.id} is {account.stage}; offer {offer_id} no longer applies")
    if offer.on_kept == "settle" and account.balance_minor != offer.balance_minor:
        raise OfferError(f"the balance changed since settlement offer {offer_id} was made; make a new offer")
    _replace_promise(session, known.active_plans.get(account.id), actor, today, now)
    policy = config.offers.policy(jurisdiction, account.product)
    offer.status, offer.accepted_at, offer.accepted_via, offer.accepted_by = "accepted", now, via, actor
    offer.recording_ref = recording_ref
    plan = PaymentPlan(
        account_id=account.id,
        offer_id=offer.id,
        total_minor=offer.total_minor,
        grace_days=policy.grace_days,
        created_on=today,
        kind=offer.kind,
        interest=offer.interest,
        fees=offer.fees,
        on_kept=offer.on_kept,
        discount_minor=offer.discount_minor,
        created_by=actor,
    )
    session.add_all([offer, plan])
    session.flush()
    known.active_plans[account.id] = plan
    closed = public_holidays(config.policy(jurisdiction).holiday_country)
    schedule = [
        {"plan_id": plan.id, "seq": seq, "due_date": due.due_date, "amount_minor": due.amount_minor, "paid_minor": 0}
        for seq, due in enumerate(schedule_of(offer, closed), 1)
    ]
    others = known.pending_offers[account.id] - {offer_id}
    known.pending_offers[account.id] = set()
    if others:
        withdraw_other_offers(session, account.id, "another offer was accepted", actor, now, keep=offer.id)
        for other in others & known.offers.keys():
            session.expire(known.offers[other])  # withdrawn by that statement: read again if accepted later
    record(
        session,
        "offer.accepted",
        actor,
        now,
        account.id,
        offer_id=offer.id,
        offer_kind=offer.kind,
        via=via,
        recording_ref=recording_ref,
    )
    start_plan(session, account, plan, offer.installments, actor, today, now, "a payment plan was accepted")
    return plan, schedule


def accept_self_service(
    session: Session, config: Configuration, account_id: int, offer_id: int, today: date, now: datetime
) -> PaymentPlan:
    """The customer accepts on the self-service pages, signed in to `account_id`: only that account's offer."""
    offer = session.get(Offer, offer_id)
    if offer is None or offer.account_id != account_id:
        raise OfferError(f"offer {offer_id} is not one of this account's offers")
    return accept_offer(session, config, offer_id, "self_service", "customer:self_service", today, now)


def _replace_promise(session: Session, active: PaymentPlan | None, actor: str, today: date, now: datetime) -> None:
    """A plan agreed while a promise to pay runs takes its place; a second plan is refused."""
    if active is None:
        return
    if active.kind != PROMISE:
        raise OfferError(f"account {active.account_id} already has an active {active.kind} plan ({active.id})")
    active.status, active.ended_on = "replaced", today
    session.add(active)
    record(session, "plan.replaced", actor, now, active.account_id, plan_id=active.id, plan_kind=PROMISE)


def start_plan(
    session: Session,
    account: Account,
    plan: PaymentPlan,
    installments: int,
    actor: str,
    today: date,
    now: datetime,
    why: str,
) -> None:
    """The account moves to plan monitoring; what negotiation queued or proposed is stopped."""
    assert account.id is not None
    previous = account.stage
    account.stage, account.stage_entered_on, account.next_action_on = stages.PLAN, today, today
    account.version += 1
    session.add(account)
    withdraw_open_escalations(session, account.id, why, actor, now)
    # Offers and reminders queued for negotiation are wrong now; the plan's own reminders come from its cadence.
    cancel_queued(session, account.id, why, actor, now, purposes=(COLLECTION,))
    created = audit_row(
        "plan.created",
        actor,
        now,
        account.id,
        plan_id=plan.id,
        plan_kind=plan.kind,
        installments=installments,
        total_minor=plan.total_minor,
        interest=plan.interest,
        fees=plan.fees,
    )
    moved = stage_changed(actor, now, account.id, previous, stages.PLAN) if previous != stages.PLAN else []
    record_many(session, [created, *moved])


def withdraw_other_offers(
    session: Session, account_id: int, reason: str, actor: str, now: datetime, keep: int | None = None
) -> int:
    """Open and pending offers of the account are withdrawn, with their approval tasks."""
    query = sa.select(col(Offer.id)).where(
        col(Offer.account_id) == account_id, col(Offer.status).in_(("open", "pending_approval"))
    )
    if keep is not None:
        query = query.where(col(Offer.id) != keep)
    offer_ids: list[int] = [offer_id for offer_id in session.scalars(query) if offer_id is not None]
    if not offer_ids:
        return 0
    session.execute(
        sa.update(Offer)
        .where(col(Offer.id).in_(offer_ids))
        .values(status="withdrawn")
        .execution_options(synchronize_session=False)
    )
    withdraw_approvals(session, [account_id], offer_ids, reason, actor, now)
    for offer_id in offer_ids:
        record(session, "offer.withdrawn", actor, now, account_id, offer_id=offer_id, reason=reason)
    return len(offer_ids)


def withdraw_approvals(
    session: Session, account_ids: list[int], offer_ids: list[int], reason: str, actor: str, now: datetime
) -> None:
    """Open approval tasks of offers that can no longer be accepted are withdrawn, so nobody decides them."""
    tasks = session.scalars(
        sa.select(HumanTask).where(
            col(HumanTask.account_id).in_(account_ids),
            col(HumanTask.kind) == OFFER_APPROVAL,
            col(HumanTask.status) == "open",
        )
    ).all()
    for task in tasks:
        if task.payload.get("offer_id") in offer_ids:
            task.status, task.decided_by, task.decided_at, task.reason = "withdrawn", actor, now, reason
            task.version += 1
            session.add(task)
            record(session, "task.withdrawn", actor, now, task.account_id, task_id=task.id, reason=reason)


INTEREST_WORDS = {
    "accrues": "continues to accrue as the contract says, on top of the plan",
    "frozen": "none is added while the plan is kept",
    "waived": "what is left is written off when the plan is kept",
}


def offer_view(offer: Offer, currency: str, closed: Any) -> dict[str, Any]:
    """The terms as an agent, a customer or the dashboard reads them: explicit fields, amounts in minor units.
    `closed`: the jurisdiction's holidays, for an offer made before schedules were stored."""
    return {
        "offer_id": offer.id,
        "account_id": offer.account_id,
        "kind": offer.kind,
        "status": offer.status,
        "currency": currency,
        "balance_minor": offer.balance_minor,
        "total_payable_minor": offer.total_minor,
        "discount_minor": offer.discount_minor,
        "schedule": [
            {"due_date": d.due_date.isoformat(), "amount_minor": d.amount_minor} for d in schedule_of(offer, closed)
        ],
        "interest": offer.interest,
        "interest_means": INTEREST_WORDS[offer.interest],
        "fees": offer.fees,
        "fees_means": INTEREST_WORDS[offer.fees],
        "when_kept": offer.on_kept,
        "outside_bounds": offer.outside_bounds,
        "approvals_needed": offer.approvals_needed,
        "approved_by": offer.approved_by,
        "requested_by": offer.requested_by,
        "created_on": offer.created_on.isoformat(),
        "expires_on": offer.expires_on.isoformat(),
        "accepted": None
        if offer.accepted_at is None
        else {
            "at": offer.accepted_at.isoformat(),
            "via": offer.accepted_via,
            "by": offer.accepted_by,
            "recording_ref": offer.recording_ref,
        },
    }
