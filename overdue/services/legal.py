"""Legal cases after an approved escalation: the demand letter (律师函) and the litigation steps.

`proceed` is the continuation of an approval: it queues the demand letter to the customer's postal address in
the customer's language. It runs right after the approval commits (overdue/services/continuation.py) and again
from every daily cycle for any approved case still without its letter, so a continuation whose start was lost
is picked up within a day; a conditional write on the case and the letter's idempotency key make a second run
change nothing.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from overdue.channels.context import fmt_date, message_context
from overdue.channels.letters.pdf import render_pdf
from overdue.channels.templates import Rendered, TemplateRenderer
from overdue.domain import litigation, stages
from overdue.runtime import Runtime
from overdue.services.audit import record
from overdue.services.letters import compose, postal_address
from overdue.store.tables import Account, Customer, LegalCase, LegalCaseEvent, OutreachMessage

DEMAND_LETTER = "demand_letter"
LETTER_LOCALES = ("en-US", "zh-CN")
NO_ADDRESS = "no postal address on file: counsel delivers the letter"


class LegalError(ValueError):
    """The step was not recorded; the message says why."""


def case_ref(case: LegalCase) -> str:
    return f"LC-{case.id:06d}"


@cache
def _renderer(legal_dir: Path) -> TemplateRenderer:
    return TemplateRenderer(legal_dir)


def _parts(session: Session, case_id: int) -> tuple[LegalCase, Account, Customer]:
    case = session.get(LegalCase, case_id)
    if case is None:
        raise LegalError(f"legal case {case_id} does not exist")
    account = session.get(Account, case.account_id)
    assert account is not None
    customer = session.get(Customer, account.customer_id)
    assert customer is not None
    return case, account, customer


def render_demand_letter(
    runtime: Runtime, case: LegalCase, account: Account, customer: Customer, locale: str
) -> Rendered:
    """The letter's wording in `locale` (the customer's for the copy we send; both for counsel)."""
    reader = Customer.model_validate(customer.model_dump() | {"locale": locale})
    days = runtime.config.strategy_for(account.strategy_arm).escalation.demand_letter_days
    context: dict[str, Any] = message_context(runtime.sender, reader, account) | {
        "case_ref": case_ref(case),
        "approved_on": fmt_date(case.opened_on, locale),
        "deadline": fmt_date(case.opened_on + timedelta(days=days), locale),
    }
    return _renderer(runtime.config.legal_dir).render(DEMAND_LETTER, "letter", locale, context)


def demand_letter_pdf(session: Session, runtime: Runtime, case_id: int, locale: str) -> bytes:
    case, account, customer = _parts(session, case_id)
    reader = Customer.model_validate(customer.model_dump() | {"locale": locale})
    body = render_demand_letter(runtime, case, account, customer, locale).body
    address = postal_address(session, customer.id) or ""  # type: ignore[arg-type]
    letter = compose(
        runtime.sender,
        account,
        reader,
        to_third_party=False,
        message_id=case.demand_letter_id,
        dated=case.opened_on,
        address=address,
        body=body,
    )
    return render_pdf(letter, runtime.settings.letter_font)


def proceed(session: Session, runtime: Runtime, case_id: int, now: datetime) -> OutreachMessage | None:
    """Queue the case's demand letter, once. None when it was queued already (by the continuation or a cycle)."""
    case, account, customer = _parts(session, case_id)
    if case.demand_letter_id is not None or case.status != litigation.APPROVED:
        return None
    claimed = session.execute(
        sa.update(LegalCase)
        .where(
            col(LegalCase.id) == case_id,
            col(LegalCase.demand_letter_id).is_(None),
            col(LegalCase.version) == case.version,
        )
        .values(version=col(LegalCase.version) + 1)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    rendered = render_demand_letter(runtime, case, account, customer, customer.locale)
    address = postal_address(session, customer.id)  # type: ignore[arg-type]
    letter = OutreachMessage(
        idempotency_key=f"legal:{case_id}:{DEMAND_LETTER}",
        account_id=account.id,  # type: ignore[arg-type]
        customer_id=customer.id,  # type: ignore[arg-type]
        channel="letter",
        address=address or "",
        template=DEMAND_LETTER,
        locale=customer.locale,
        stage=stages.LEGAL,
        step=DEMAND_LETTER,
        purpose=litigation.LEGAL_NOTICE,
        body=rendered.body,
        status="queued" if address else "failed",
        error=None if address else NO_ADDRESS,
        send_at=now,
        created_at=now,
    )
    session.add(letter)
    session.flush()
    session.refresh(case)
    case.demand_letter_id = letter.id
    session.add(case)
    record(
        session,
        "legal_case.demand_letter_queued",
        "system:legal",
        now,
        account.id,
        case_id=case_id,
        message_id=letter.id,
        status=letter.status,
    )
    return letter


def proceed_pending(session: Session, runtime: Runtime, now: datetime, shard: tuple[int, int]) -> int:
    """The daily cycle's safety net: every approved case in the shard whose demand letter is not queued."""
    pending = session.scalars(
        sa.select(sa.cast(col(LegalCase.id), sa.Integer)).where(
            col(LegalCase.account_id).between(*shard),
            col(LegalCase.status) == litigation.APPROVED,
            col(LegalCase.demand_letter_id).is_(None),
        )
    ).all()
    return sum(proceed(session, runtime, case_id, now) is not None for case_id in pending)


def advance(
    session: Session,
    case_id: int,
    status: str,
    on: date,
    cost_minor: int,
    note: str,
    user: str,
    now: datetime,
) -> LegalCase:
    """Record the next step of a case (letter sent, filed, judgment, enforcement, settled, withdrawn) on the
    day it happened, with its cost; only the steps litigation allows, in order, as a conditional write."""
    case = session.get(LegalCase, case_id)
    if case is None:
        raise LegalError(f"legal case {case_id} does not exist")
    last_on = session.scalar(
        sa.select(sa.func.max(col(LegalCaseEvent.happened_on))).where(col(LegalCaseEvent.case_id) == case_id)
    )
    refused = litigation.refuse_step(case.status, status, on, last_on or case.opened_on, now.date(), cost_minor)
    if refused is not None:
        raise LegalError(f"case {case_id}: {refused}")
    result = session.execute(
        sa.update(LegalCase)
        .where(
            col(LegalCase.id) == case_id,
            col(LegalCase.status) == case.status,
            col(LegalCase.version) == case.version,
        )
        .values(status=status, costs_minor=col(LegalCase.costs_minor) + cost_minor, version=col(LegalCase.version) + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise LegalError(f"case {case_id} changed while you were recording; reload and try again")
    session.refresh(case)
    session.add(
        LegalCaseEvent(
            case_id=case_id,
            status=status,
            happened_on=on,
            cost_minor=cost_minor,
            note=note.strip(),
            recorded_by=user,
            recorded_at=now,
        )
    )
    record(
        session,
        "legal_case.advanced",
        user,
        now,
        case.account_id,
        case_id=case_id,
        status=status,
        on=on.isoformat(),
        cost_minor=cost_minor,
    )
    return case


def case_events(session: Session, case_id: int) -> list[LegalCaseEvent]:
    return list(
        session.scalars(
            sa.select(LegalCaseEvent)
            .where(col(LegalCaseEvent.case_id) == case_id)
            .order_by(col(LegalCaseEvent.happened_on), col(LegalCaseEvent.id))
        )
    )
