"""US validation notices: queued with a debt's first collection contact, itemized as Model Form B-1
asks, and dated with the end of the validation period the consumer has to dispute in writing.

The contact guard's `validation_notice` rule stops collection if a notice has not gone out within its
days; this module makes sure one is always on its way, so the guard never has to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from overdue.channels.context import Sender, fmt_date, message_context
from overdue.channels.templates import TemplateRenderer
from overdue.config import Configuration
from overdue.config.models import Policy, ValidationNoticeRule
from overdue.domain.contact_window import local_date
from overdue.domain.escalation import is_time_barred
from overdue.domain.guard import VALIDATION, Proposal, check_contact, only_window
from overdue.domain.money import format_money
from overdue.domain.validation import public_holidays, validation_period_end
from overdue.services.contact_guard import WAS_SENT, FactsBook
from overdue.store.bulk import any_of
from overdue.store.tables import OutreachMessage, Payment
from overdue.store.views import AccountLike, CustomerLike

TEMPLATE = "validation_notice"


@dataclass(frozen=True)
class DueContact:
    """An account whose cadence step falls due at `send_at`."""

    account: AccountLike
    customer: CustomerLike
    send_at: datetime


def period_end(policy: Policy, sent_on: date) -> date | None:
    rule = policy.validation_notice
    if rule is None:
        return None
    return validation_period_end(sent_on, rule, public_holidays(policy.holiday_country))


def plan_validation_notices(
    session: Session,
    config: Configuration,
    renderer: TemplateRenderer,
    sender: Sender,
    book: FactsBook,
    candidates: Sequence[DueContact],
    stage: str,
    now: datetime,
) -> list[dict[str, Any]]:
    """Outbox rows (as `plan_outreach` writes them) for the notices these accounts need, at most one each."""
    paid = payments_since(session, [(c.account.id, c.account.due_date) for c in candidates])  # type: ignore[misc]
    rows: list[dict[str, Any]] = []
    for candidate in candidates:
        account, customer = candidate.account, candidate.customer
        assert account.id is not None
        policy = config.policy(customer.jurisdiction)
        rule = policy.validation_notice
        if rule is None or not book.needs_validation_notice(account.id):
            continue
        channel = _channel(book, policy, rule, account.id, candidate.send_at)
        if channel is None:
            continue
        book.validation_queued.add(account.id)
        sent_on = local_date(candidate.send_at, customer.time_zone)
        context = message_context(
            sender,
            customer,
            account,
            time_barred=is_time_barred(account.due_date, sent_on, policy.time_bar.years),
        ) | {"validation": itemization(account, customer.locale, paid.get(account.id, 0), period_end(policy, sent_on))}
        rendered = renderer.render(TEMPLATE, channel, customer.locale, context)
        point = book.address(account.id, channel)
        assert point is not None
        rows.append(
            {
                "idempotency_key": f"{VALIDATION}:{account.id}:{sent_on.isoformat()}",
                "account_id": account.id,
                "customer_id": customer.id,
                "channel": channel,
                "address": point.address,
                "template": TEMPLATE,
                "locale": customer.locale,
                "stage": stage,
                "step": TEMPLATE,
                "purpose": VALIDATION,
                "subject": rendered.subject,
                "body": rendered.body,
                "status": "queued",
                "send_at": candidate.send_at,
                "created_at": now,
            }
        )
    return rows


def itemization(account: AccountLike, locale: str, paid_minor: int, ends_on: date | None) -> SimpleNamespace:
    """Model Form B-1's itemization: what was owed on the itemization date, what changed since, and now.

    The itemization date is the payment due date the delinquency started from; the balance then is the
    balance placed for collection, so interest and fees since are what the balance grew by net of payments.
    """

    def money(minor: int) -> str:
        return format_money(minor, account.currency, locale)

    charges = max(account.balance_minor + paid_minor - account.placed_balance_minor, 0)
    return SimpleNamespace(
        itemization_date=fmt_date(account.due_date, locale),
        balance_then=money(account.placed_balance_minor),
        charges_since=money(charges),
        paid_since=money(paid_minor),
        balance_now=money(account.balance_minor),
        ends_on=fmt_date(ends_on, locale) if ends_on else "",
    )


def _channel(book: FactsBook, policy: Policy, rule: ValidationNoticeRule, account_id: int, at: datetime) -> str | None:
    """The first of the rule's channels the customer can be reached on and the guard lets a notice through."""
    for channel in rule.channels:
        if book.address(account_id, channel) is None:
            continue
        verdict = check_contact(Proposal(channel, at, VALIDATION), book.facts(account_id, channel), policy)
        if verdict.allowed or only_window(verdict, policy):
            return channel
    return None


def payments_since(session: Session, accounts: list[tuple[int, date]]) -> dict[int, int]:
    """Per account, the payments received on or after its date (the itemization date)."""
    since = dict(accounts)
    paid: dict[int, int] = {}
    for among in any_of(session, col(Payment.account_id), list(since)):
        query = sa.select(col(Payment.account_id), col(Payment.received_on), col(Payment.amount_minor)).where(among)
        for account_id, received_on, amount in session.execute(query):
            if received_on >= since[account_id]:
                paid[account_id] = paid.get(account_id, 0) + amount
    return paid


def validation_sent_on(session: Session, account: AccountLike, customer: CustomerLike) -> date | None:
    """The customer-local day the debt's validation notice was first sent, if it was."""
    sent_at = session.scalar(
        sa.select(sa.func.min(col(OutreachMessage.sent_at))).where(
            col(OutreachMessage.account_id) == account.id,
            col(OutreachMessage.purpose) == VALIDATION,
            WAS_SENT,
        )
    )
    return local_date(sent_at, customer.time_zone) if sent_at is not None else None
