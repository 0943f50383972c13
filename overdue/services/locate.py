"""Locating a debtor who cannot be reached, through a relative or contact they gave us, as the policy's
`third_party` rule allows: only then, at most once per `locate_every_days`, and with a message that
says nothing about any debt (the `locate` templates ask only for a call back)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from overdue.channels.context import Sender, message_context
from overdue.channels.templates import TemplateRenderer
from overdue.config import Configuration
from overdue.domain.guard import LOCATE, Proposal, check_contact, only_window
from overdue.domain.sms import oversize
from overdue.services.audit import sms_too_long_row
from overdue.services.contact_guard import FactsBook
from overdue.services.validation_notices import DueContact

TEMPLATE = "locate"


def plan_locate_messages(
    session: Session,
    config: Configuration,
    renderer: TemplateRenderer,
    sender: Sender,
    book: FactsBook,
    candidates: Sequence[DueContact],
    stage: str,
    as_of: date,
    now: datetime,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Outbox rows asking one of each unreachable debtor's contacts to pass on our number, and the audit
    events of messages skipped because they rendered too long (the next contact point is tried instead)."""
    rows: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    seen: set[int] = set()
    for candidate in candidates:
        account, customer = candidate.account, candidate.customer
        assert account.id is not None
        assert customer.id is not None
        policy = config.policy(customer.jurisdiction)
        rule = policy.third_party
        if customer.id in seen or rule is None or not rule.locate_when_unreachable:
            continue
        seen.add(customer.id)  # one message finds the person, whichever of their debts asked
        max_segments = config.strategy_for(account.strategy_arm).sms_max_segments
        for point in book.others[customer.id]:
            party, facts = book.facts_for(account.id, point.channel, point.address)
            verdict = check_contact(Proposal(point.channel, candidate.send_at, LOCATE, party=party), facts, policy)
            if not (verdict.allowed or only_window(verdict, policy)):
                continue
            rendered = renderer.render(
                TEMPLATE, point.channel, customer.locale, message_context(sender, customer, account)
            )
            size = oversize(point.channel, rendered.body, max_segments)
            if size is not None:
                skipped.append(sms_too_long_row(account.id, now, size, max_segments, step=TEMPLATE))
                continue
            rows.append(
                {
                    "idempotency_key": f"{LOCATE}:{customer.id}:{as_of.toordinal() // rule.locate_every_days}",
                    "account_id": account.id,
                    "customer_id": customer.id,
                    "channel": point.channel,
                    "address": point.address,
                    "template": TEMPLATE,
                    "locale": customer.locale,
                    "stage": stage,
                    "step": TEMPLATE,
                    "purpose": LOCATE,
                    "subject": rendered.subject,
                    "body": rendered.body,
                    "status": "queued",
                    "send_at": candidate.send_at,
                    "created_at": now,
                }
            )
            break
    return rows, skipped
