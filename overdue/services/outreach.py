"""Outreach: plan today's cadence messages into the outbox (overdue/services/dispatch.py sends them).

Messages are written `queued` with a deterministic idempotency key before any send, so a rerun of
the same day queues nothing new.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from overdue.channels.context import Sender, message_context
from overdue.channels.templates import TemplateRenderer
from overdue.config import Configuration
from overdue.config.models import CadenceStep
from overdue.domain import stages
from overdue.domain.cadence import anchor_for, next_step_date, step_due
from overdue.domain.contact_window import planned_send_at
from overdue.domain.escalation import is_time_barred
from overdue.domain.guard import Proposal, check_contact
from overdue.domain.pauses import shifted_anchor
from overdue.domain.plans import InstallmentState, next_unpaid
from overdue.domain.sms import oversize
from overdue.services.audit import HELD_BACK, SMS_TOO_LONG, SYSTEM, audit_row, record_many, sms_too_long_row
from overdue.services.condition_facts import load_condition_facts
from overdue.services.contact_guard import (
    VULNERABILITY_REVIEW,
    blocked_row,
    load_facts,
    open_vulnerability_reviews,
    purpose_of,
)
from overdue.services.locate import plan_locate_messages
from overdue.services.validation_notices import DueContact, plan_validation_notices
from overdue.store.bulk import any_of, insert_ignoring_conflicts, staged_rows, update_by_id
from overdue.store.tables import (
    Account,
    Hold,
    Installment,
    Offer,
    OutreachMessage,
    PaymentPlan,
    UTCDateTime,
)
from overdue.store.views import AccountLike, select_accounts_with_customers, split_row


@dataclass
class OutreachCounts:
    queued: int = 0
    skipped: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    blocked: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    reviews_opened: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "queued": self.queued,
            "skipped": dict(self.skipped),
            "blocked": dict(self.blocked),
            "reviews_opened": self.reviews_opened,
        }


def active_hold(as_of: date) -> sa.ColumnElement[bool]:
    """EXISTS an active hold for the account in the enclosing query."""
    return sa.exists().where(
        col(Hold.account_id) == col(Account.id),
        col(Hold.starts_on) <= as_of,
        sa.or_(col(Hold.ends_on).is_(None), col(Hold.ends_on) >= as_of),
    )


def message_key(stage: str, account_id: int, anchor: date, step: CadenceStep) -> str:
    return f"{stage}:{account_id}:{anchor.isoformat()}:{step.id}:{step.channel}"


def anchor_of(key: str) -> date | None:
    """The anchor day in a cadence message's key (a plan reminder's installment due date); None for other keys."""
    parts = key.split(":")
    try:
        return date.fromisoformat(parts[2]) if len(parts) == 5 else None
    except ValueError:
        return None


def plan_outreach(
    session: Session,
    config: Configuration,
    renderer: TemplateRenderer,
    sender: Sender,
    in_stages: tuple[str, ...],
    as_of: date,
    now: datetime,
    shard: tuple[int, int],
) -> dict[str, OutreachCounts]:
    """Queue the cadence step due today for every account in one of `in_stages` whose next action has come.
    One pass for all the stages: one read of the accounts, one load of the guard's facts, one insert (a pass
    per stage cost a shard three of each). Returns the counts per stage."""
    counts = {stage: OutreachCounts() for stage in in_stages}
    with_cadence = [s for s in in_stages if any(strategy.cadence.get(s) for strategy in config.strategies.values())]
    if not with_cadence:
        return counts
    rows = [
        split_row(row)
        for row in session.execute(
            select_accounts_with_customers()
            .where(
                col(Account.id).between(*shard),
                col(Account.stage).in_(with_cadence),
                col(Account.next_action_on) <= as_of,
            )
            .order_by(col(Account.id))  # rows are written in this order: ids must not depend on the plan
        )
    ]
    extra = load_condition_facts(session, config, as_of, shard, with_flags=False)
    rows = [(account, customer) for account, customer in rows if not extra.paused_on(account.id, as_of)]
    if not rows:
        return counts
    book = load_facts(session, config, ((a.id, c) for a, c in rows), as_of, now)
    stage_of = {account.id: account.stage for account, _ in rows}
    in_negotiation = [account.id for account, _ in rows if account.stage == stages.NEGOTIATION]
    on_plan = [account.id for account, _ in rows if account.stage == stages.PLAN]
    offers = open_offers(session, in_negotiation)
    schedules = active_schedules(session, on_plan)

    planned: list[dict[str, Any]] = []
    next_actions: list[dict[str, Any]] = []
    audits: list[dict[str, Any]] = []
    need_notice: dict[str, list[DueContact]] = defaultdict(list)
    unreachable: dict[str, list[DueContact]] = defaultdict(list)
    to_review: list[int] = []
    for account, customer in rows:
        stage, stage_counts = account.stage, counts[account.stage]
        strategy = config.strategy_for(account.strategy_arm)  # the arm the account was assigned to
        steps = strategy.cadence.get(stage, ())
        anchor, installment = _anchor(stage, account, schedules.get(account.id))
        if anchor is None:
            if account.next_action_on is not None:
                next_actions.append({"id": account.id, "next_action_on": None})
            continue
        counted_from = shifted_anchor(anchor, steps, extra.pauses.get(account.id, ()), as_of)  # after pauses
        step = step_due(steps, counted_from, as_of, strategy.catch_up_days)
        next_action = next_step_date(steps, counted_from, as_of)
        if next_action != account.next_action_on:  # most accounts' next step has not moved: no write
            next_actions.append({"id": account.id, "next_action_on": next_action})
        if step is None:
            continue
        point = book.address(account.id, step.channel)
        offer = offers.get(account.id)
        policy = config.policy(customer.jurisdiction)
        send_at = planned_send_at(as_of, step.local_time, customer.time_zone, policy.contact_window)
        reason = None
        if point is None:
            reason = "no usable contact point"
            if not book.base[account.id].debtor_reachable:
                unreachable[stage].append(DueContact(account, customer, send_at))
        elif step.template == "offer" and offer is None:
            reason = "no open offer"
        if reason is not None:
            stage_counts.skipped[reason] += 1
            audits.append(audit_row("message.skipped", SYSTEM, now, account.id, step=step.id, reason=reason))
            continue
        assert point is not None
        purpose = purpose_of(stage)
        verdict = check_contact(
            Proposal(step.channel, send_at, purpose),
            book.facts(account.id, step.channel),
            policy,
        )
        notice = policy.validation_notice
        if notice and (verdict.allowed or notice.id in verdict.blocked_by):
            need_notice[stage].append(DueContact(account, customer, send_at))
        if not verdict.allowed:
            for rule in verdict.blocked_by:
                stage_counts.blocked[rule] += 1
            if policy.needs_review(verdict.blocked_by):
                to_review.append(account.id)
            audits.append(
                blocked_row(account.id, now, verdict.blocked_by, step=step.id, channel=step.channel, purpose=purpose)
            )
            continue
        barred = is_time_barred(account.due_date, as_of, policy.time_bar.years)
        context = message_context(sender, customer, account, offer, installment, time_barred=barred)
        rendered = renderer.render(step.template, step.channel, customer.locale, context)
        size = oversize(step.channel, rendered.body, strategy.sms_max_segments)
        if size is not None:
            stage_counts.skipped[SMS_TOO_LONG] += 1
            audits.append(sms_too_long_row(account.id, now, size, strategy.sms_max_segments, step=step.id))
            continue
        planned.append(
            {
                "idempotency_key": message_key(stage, account.id, anchor, step),
                "account_id": account.id,
                "customer_id": customer.id,
                "channel": step.channel,
                "address": point.address,
                "template": step.template,
                "locale": customer.locale,
                "stage": stage,
                "step": step.id,
                "purpose": purpose,
                "subject": rendered.subject,
                "body": rendered.body,
                "status": "queued",
                "send_at": send_at,
                "created_at": now,
            }
        )

    for stage in with_cadence:
        planned += plan_validation_notices(session, config, renderer, sender, book, need_notice[stage], stage, now)
        located, too_long = plan_locate_messages(
            session, config, renderer, sender, book, unreachable[stage], stage, as_of, now
        )
        planned += located
        audits += too_long
    queued = _queue_new(session, planned, now)
    for row in planned:
        counts[row["stage"]].queued += row["idempotency_key"] in queued
    record_many(session, audits)
    review = config.tasks.kind(VULNERABILITY_REVIEW)
    for account_id in open_vulnerability_reviews(session, to_review, review.role, review.sla_hours, now):
        counts[stage_of[account_id]].reviews_opened += 1
    update_by_id(session, Account, next_actions)
    return counts


def _queue_new(session: Session, planned: list[dict[str, Any]], now: datetime) -> set[str]:
    """Insert the messages whose key is new (a rerun of the same day queues nothing) and audit each; returns
    the keys of the messages inserted."""
    if planned and session.get_bind().dialect.name == "postgresql" and HELD_BACK not in session.info:
        return _queue_new_in_one_statement(session, planned, now)
    inserted = set(
        insert_ignoring_conflicts(session, OutreachMessage, planned, ["idempotency_key"], returning="idempotency_key")
    )
    fresh = [row for row in planned if row["idempotency_key"] in inserted]
    record_many(
        session,
        (
            audit_row(
                "message.queued",
                SYSTEM,
                now,
                row["account_id"],
                key=row["idempotency_key"],
                channel=row["channel"],
                purpose=row["purpose"],
            )
            for row in fresh
        ),
    )
    return inserted


def _queue_new_in_one_statement(session: Session, planned: list[dict[str, Any]], now: datetime) -> set[str]:
    """_queue_new's work as one statement: the audit rows come from the INSERT's own RETURNING instead of a
    second trip of every row through Python and COPY."""
    with staged_rows(session, OutreachMessage.__table__, planned) as insert_new:  # type: ignore[attr-defined]
        statement = sa.text(
            f"WITH new AS ({insert_new} ON CONFLICT (idempotency_key) DO NOTHING "
            "RETURNING account_id, idempotency_key, channel, purpose) "
            "INSERT INTO auditevent (ts, account_id, actor, kind, data) "
            "SELECT :ts, account_id, :actor, 'message.queued', "
            "json_build_object('key', idempotency_key, 'channel', channel, 'purpose', purpose) FROM new "
            "RETURNING data->>'key'"
        ).bindparams(sa.bindparam("ts", now, type_=UTCDateTime()), sa.bindparam("actor", SYSTEM))
        return set(session.scalars(statement))


def _anchor(stage: str, account: AccountLike, schedule: list[InstallmentState] | None) -> tuple[date | None, Any]:
    if stage == stages.REMINDER:
        return anchor_for(account.due_date, account.anchor_on, account.stage_entered_on), None
    if stage == stages.NEGOTIATION:
        return account.stage_entered_on, None
    if stage == stages.PLAN and schedule:
        installment = next_installment(schedule)
        return (installment["due_date"], installment) if installment else (None, None)
    return None, None


def next_installment(schedule: list[InstallmentState]) -> dict[str, Any] | None:
    """The installment the plan templates talk about: the oldest one not yet paid in full."""
    item = next_unpaid(schedule)
    if item is None:
        return None
    return {"seq": item.seq, "count": len(schedule), "amount_minor": item.outstanding_minor, "due_date": item.due_date}


def open_offers(session: Session, account_ids: list[int]) -> dict[int, dict[str, Any]]:
    """What the offer templates say: monthly installments (other kinds an agent puts to the customer). Plain
    columns, not Offer objects: decoding each offer's JSON schedule cost a shard half a second."""
    found: dict[int, dict[str, Any]] = {}
    for among in any_of(session, col(Offer.account_id), account_ids):
        query = sa.select(
            col(Offer.account_id),
            col(Offer.installments),
            col(Offer.total_minor),
            col(Offer.first_due_date),
            col(Offer.expires_on),
        ).where(among, col(Offer.status) == "open", col(Offer.kind) == "installment")
        for account_id, installments, total_minor, first_due_date, expires_on in session.execute(query):
            found[account_id] = {
                "installments": installments,
                "installment_minor": -(-total_minor // installments),
                "total_minor": total_minor,
                "first_due_date": first_due_date,
                "expires_on": expires_on,
            }
    return found


def active_schedules(session: Session, account_ids: list[int]) -> dict[int, list[InstallmentState]]:
    schedules: dict[int, list[InstallmentState]] = defaultdict(list)
    for among in any_of(session, col(PaymentPlan.account_id), account_ids):
        query = (
            sa.select(
                col(PaymentPlan.account_id),
                col(Installment.seq),
                col(Installment.due_date),
                col(Installment.amount_minor),
                col(Installment.paid_minor),
            )
            .join(Installment, col(Installment.plan_id) == col(PaymentPlan.id))
            .where(among, col(PaymentPlan.status) == "active")
        )
        for account_id, seq, due_date, amount_minor, paid_minor in session.execute(query):
            schedules[account_id].append(InstallmentState(seq, due_date, amount_minor, paid_minor))
    return schedules


def cancel_queued(
    session: Session,
    account_id: int,
    reason: str,
    actor: str,
    now: datetime,
    *,
    purposes: tuple[str, ...] | None = None,
    channel: str | None = None,
    ids: list[int] | None = None,
) -> int:
    """Stop queued messages to an account at once (paid, escalated, on hold, a plan accepted, an opt-out):
    all of them, or only those of the given purposes, channel or ids."""
    query = sa.update(OutreachMessage).where(
        col(OutreachMessage.account_id) == account_id, col(OutreachMessage.status) == "queued"
    )
    if ids is not None:
        query = query.where(col(OutreachMessage.id).in_(ids))
    if purposes is not None:
        query = query.where(col(OutreachMessage.purpose).in_(purposes))
    if channel is not None:
        query = query.where(col(OutreachMessage.channel) == channel)
    # "fetch": the rows' ids come back by RETURNING and only those objects are synchronised; the default
    # evaluates the criteria against every object in the session (a payment batch holds thousands).
    cancelling = query.values(status="cancelled", error=reason).execution_options(synchronize_session="fetch")
    cancelled = int(session.execute(cancelling).rowcount or 0)  # type: ignore[attr-defined]
    if cancelled:
        record_many(session, [audit_row("message.cancelled", actor, now, account_id, count=cancelled, reason=reason)])
    return cancelled
