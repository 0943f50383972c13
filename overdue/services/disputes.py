"""Disputes: opened as a hold that stops collection, closed only by sending the customer the verification.

A US dispute records whether it was written and within the validation period, the case in which the
law requires collection to stop until verification is sent (15 U.S.C. 1692g(b); 12 CFR 1006.38). We
stop collection for every dispute, the stricter house rule, and keep the distinction for the record.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session

from overdue.channels.context import Sender, message_context
from overdue.channels.templates import TemplateRenderer
from overdue.config import Configuration
from overdue.services.audit import record
from overdue.services.decisions import withdraw_pending
from overdue.services.holds import DISPUTE, HoldError, place_hold, release_hold
from overdue.services.letters import postal_address
from overdue.services.validation_notices import period_end, validation_sent_on
from overdue.store.tables import Account, Customer, Hold, OutreachMessage

DISPUTE_REVIEW = "dispute_review"


def open_dispute(
    session: Session,
    config: Configuration,
    account_id: int,
    reason: str,
    user: str,
    received_on: date,
    written: bool,
    now: datetime,
) -> Hold:
    """Place the dispute hold from today; the record says when the dispute arrived and whether it was timely."""
    if received_on > now.date():
        raise HoldError(f"a dispute cannot be received in the future ({received_on})")
    account = session.get(Account, account_id)
    if account is None:
        raise HoldError(f"account {account_id} does not exist")
    customer = session.get(Customer, account.customer_id)
    assert customer is not None
    details: dict[str, object] = {"received_on": received_on.isoformat(), "written": written}
    policy = config.policy(customer.jurisdiction)
    if policy.validation_notice is not None:
        sent_on = validation_sent_on(session, account, customer)
        ends_on = period_end(policy, sent_on) if sent_on is not None else None
        # Before the notice has gone out the period has not started, so any dispute is early, not late.
        timely = ends_on is None or received_on <= ends_on
        details |= {
            "validation_period_ends_on": ends_on.isoformat() if ends_on else None,
            "within_validation_period": timely,
            "collection_stop_required": written and timely,
        }
    return place_hold(session, account_id, DISPUTE, reason, user, now.date(), now, details=details)


def verify_dispute(
    session: Session,
    renderer: TemplateRenderer,
    sender: Sender,
    hold_id: int,
    note: str,
    user: str,
    now: datetime,
) -> OutreachMessage:
    """Close a dispute the way the rules require: the verification goes to the customer in writing first,
    then the hold ends and collection may resume (12 CFR 1006.38; 商业银行信用卡业务监督管理办法 第70条). A
    dispute review still pending on the account is withdrawn: there is nothing left for it to decide."""
    hold = session.get(Hold, hold_id)
    today = now.date()
    if hold is None or hold.kind != DISPUTE:
        raise HoldError(f"hold {hold_id} is not a dispute")
    if hold.ends_on is not None and hold.ends_on < today:
        raise HoldError(f"the dispute hold {hold_id} already ended on {hold.ends_on}")
    if not note.strip():
        raise HoldError("a note of what was verified is required")
    account = session.get(Account, hold.account_id)
    assert account is not None
    customer = session.get(Customer, account.customer_id)
    assert customer is not None
    address = postal_address(session, customer.id)  # type: ignore[arg-type]
    if address is None:
        raise HoldError(f"customer of account {account.id} has no postal address for the verification letter")
    rendered = renderer.render(
        "dispute_verification", "letter", customer.locale, message_context(sender, customer, account)
    )
    letter = OutreachMessage(
        idempotency_key=f"verification:{account.id}:{hold.id}",
        account_id=account.id,  # type: ignore[arg-type]
        customer_id=customer.id,  # type: ignore[arg-type]
        channel="letter",
        address=address,
        template="dispute_verification",
        locale=customer.locale,
        stage=account.stage,
        step="dispute_verification",
        purpose="verification",
        subject=rendered.subject,
        body=rendered.body,
        status="queued",
        send_at=now,
        created_at=now,
    )
    session.add(letter)
    session.flush()
    record(
        session,
        "message.queued",
        user,
        now,
        account.id,
        key=letter.idempotency_key,
        channel="letter",
        purpose="verification",
    )
    release_hold(session, hold_id, note.strip(), user, today, now, resolution="verified")
    withdraw_pending(session, account.id, DISPUTE_REVIEW, "dispute verified", user, now)  # type: ignore[arg-type]
    account.next_action_on = today  # the cadence resumes from where the account stands today
    session.add(account)
    return letter
