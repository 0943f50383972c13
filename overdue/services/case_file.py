"""The case file an approver reads before deciding legal action, and counsel receives with the hand-off: the
account and its statement, every contact, the plan history, the holds, the evidence, the tasks and the case.

One structure serves the dashboard (shown as it is) and the package (written as JSON). Personal data is
masked as on every screen; the customer's name and postal address are there because a letter needs them.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from overdue.domain.masking import mask_address, mask_tail
from overdue.services.letters import postal_address
from overdue.services.personal_data import masked_details
from overdue.store.tables import (
    Account,
    Conversation,
    Customer,
    Evidence,
    Hold,
    HumanTask,
    InboundMessage,
    Installment,
    LegalCase,
    LegalCaseEvent,
    Offer,
    OutreachMessage,
    Payment,
    PaymentPlan,
)

CONTACTS_SHOWN = 200  # the most recent; the audit export has the rest


STATEMENT_WORDS = {
    "placed": "balance placed for collection",
    "payment": "payment {reference}",
    "accrued": "interest and fees since (net of adjustments)",
}


@dataclass(frozen=True, slots=True)
class StatementLine:
    on: date
    kind: str  # placed, payment or accrued: a screen words it in the reader's language
    reference: str
    amount_minor: int  # + owed, - paid
    balance_minor: int

    @property
    def description(self) -> str:
        return STATEMENT_WORDS[self.kind].format(reference=self.reference)


@dataclass(frozen=True, slots=True)
class ContactEntry:
    at: datetime
    kind: str  # message, conversation or inbound
    channel: str
    detail: str
    status: str


@dataclass(frozen=True, slots=True)
class CaseFile:
    account: dict[str, Any]
    customer: dict[str, Any]
    statement: list[StatementLine]
    contacts: list[ContactEntry]
    offers: list[dict[str, Any]]
    plans: list[dict[str, Any]]
    holds: list[dict[str, Any]]
    evidence: list[dict[str, Any]]
    tasks: list[dict[str, Any]]
    legal_case: dict[str, Any] | None

    def as_json(self) -> dict[str, Any]:
        jsonable: dict[str, Any] = _jsonable(asdict(self))
        return jsonable


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def case_file(session: Session, account_id: int) -> CaseFile:
    account = session.get(Account, account_id)
    if account is None:
        raise LookupError(f"account {account_id} does not exist")
    customer = session.get(Customer, account.customer_id)
    assert customer is not None
    details = masked_details(session, [account_id])[account_id]
    address = postal_address(session, customer.id)  # type: ignore[arg-type]
    return CaseFile(
        account={
            "id": account.id,
            "reference": mask_tail(account.external_ref),
            "product": account.product,
            "currency": account.currency,
            "due_date": account.due_date,
            "dpd": account.dpd,
            "stage": account.stage,
            "principal_minor": account.principal_minor,
            "interest_minor": account.interest_minor,
            "fees_minor": account.fees_minor,
            "balance_minor": account.balance_minor,
            "placed_balance_minor": account.placed_balance_minor,
            "broken_plans": account.broken_plans,
            "card_number": details.card_number,
            "bank_account": details.bank_account,
        },
        customer={
            "name": customer.full_name,
            "locale": customer.locale,
            "jurisdiction": customer.jurisdiction,
            "time_zone": customer.time_zone,
            "postal_address": address,
            "phone": details.phone,
            "email": details.email,
            "national_id": details.national_id,
            "vulnerability": list(customer.vulnerability),
            "vulnerability_reviewed_on": customer.vulnerability_reviewed_on,
        },
        statement=statement(session, account),
        contacts=contacts(session, account_id),
        offers=[
            {
                "id": o.id,
                "kind": o.kind,
                "status": o.status,
                "total_minor": o.total_minor,
                "installments": o.installments,
                "created_on": o.created_on,
                "accepted_via": o.accepted_via,
            }
            for o in session.scalars(
                sa.select(Offer).where(col(Offer.account_id) == account_id).order_by(col(Offer.id))
            )
        ],
        plans=_plans(session, account_id),
        holds=[
            {"kind": h.kind, "starts_on": h.starts_on, "ends_on": h.ends_on, "reason": h.reason, "by": h.created_by}
            for h in session.scalars(sa.select(Hold).where(col(Hold.account_id) == account_id).order_by(col(Hold.id)))
        ],
        evidence=[
            {
                "id": e.id,
                "filename": e.filename,
                "content_type": e.content_type,
                "size_bytes": e.size_bytes,
                "sha256": e.sha256,
                "received_at": e.received_at,
                "from": "customer" if e.inbound_id is not None else e.uploaded_by,
                "task_id": e.task_id,
            }
            for e in evidence_of(session, account_id)
        ],
        tasks=[
            {
                "id": t.id,
                "kind": t.kind,
                "status": t.status,
                "created_at": t.created_at,
                "decided_by": t.decided_by,
                "reason": t.reason,
            }
            for t in session.scalars(
                sa.select(HumanTask).where(col(HumanTask.account_id) == account_id).order_by(col(HumanTask.id))
            )
        ],
        legal_case=_legal_case(session, account_id),
    )


def evidence_of(session: Session, account_id: int) -> list[Evidence]:
    return list(
        session.scalars(sa.select(Evidence).where(col(Evidence.account_id) == account_id).order_by(col(Evidence.id)))
    )


def evidence_file_name(evidence_id: int, filename: str) -> str:
    """A name to save a document under: its id first (two receipts may share a name), then the name it came
    with, anything but letters, digits, dots and dashes replaced (no path separator survives)."""
    return f"{evidence_id}-" + re.sub(r"[^\w.-]", "_", filename)


def statement(session: Session, account: Account) -> list[StatementLine]:
    """Placed balance, every payment (as allocated), the interest and fees since, and the balance now: the
    lines add up to the balance, which is what counsel and the customer check first."""
    payments = list(
        session.scalars(
            sa.select(Payment)
            .where(col(Payment.account_id) == account.id)
            .order_by(col(Payment.received_on), col(Payment.id))
        )
    )
    running = account.placed_balance_minor
    lines = [StatementLine(account.due_date, "placed", "", running, running)]
    for payment in payments:
        applied = payment.amount_minor - payment.unapplied_minor
        running -= applied
        lines.append(StatementLine(payment.received_on, "payment", payment.payment_ref, -applied, running))
    accrued = account.balance_minor - running
    if accrued:
        on = max(line.on for line in lines)
        lines.append(StatementLine(on, "accrued", "", accrued, account.balance_minor))
    return lines


def contacts(session: Session, account_id: int) -> list[ContactEntry]:
    """Messages, conversations and customers' replies, newest first."""
    entries: list[ContactEntry] = []
    for m in session.scalars(
        sa.select(OutreachMessage)
        .where(col(OutreachMessage.account_id) == account_id, col(OutreachMessage.status) != "queued")
        .order_by(col(OutreachMessage.send_at).desc())
        .limit(CONTACTS_SHOWN)
    ):
        at = m.sent_at or m.send_at
        assert at is not None
        detail = f"{m.template} to {mask_address(m.address, m.channel)}" + (f" ({m.error})" if m.error else "")
        entries.append(ContactEntry(at, "message", m.channel, detail, m.delivery or m.status))
    for c in session.scalars(
        sa.select(Conversation)
        .where(col(Conversation.account_id) == account_id)
        .order_by(col(Conversation.at).desc())
        .limit(CONTACTS_SHOWN)
    ):
        assert c.at is not None
        party = "right party" if c.right_party else "not the debtor"
        entries.append(ContactEntry(c.at, "conversation", c.channel, f"{party}; {c.note}".strip("; "), c.outcome))
    for i in session.scalars(
        sa.select(InboundMessage)
        .where(col(InboundMessage.account_id) == account_id)
        .order_by(col(InboundMessage.received_at).desc())
        .limit(CONTACTS_SHOWN)
    ):
        assert i.received_at is not None
        entries.append(ContactEntry(i.received_at, "inbound", i.channel, i.subject or "", i.intent))
    return sorted(entries, key=lambda e: e.at, reverse=True)[:CONTACTS_SHOWN]


def _plans(session: Session, account_id: int) -> list[dict[str, Any]]:
    plans = list(
        session.scalars(
            sa.select(PaymentPlan).where(col(PaymentPlan.account_id) == account_id).order_by(col(PaymentPlan.id))
        )
    )
    items: dict[int, list[dict[str, Any]]] = {}
    if plans:
        for i in session.scalars(
            sa.select(Installment)
            .where(col(Installment.plan_id).in_([p.id for p in plans]))
            .order_by(col(Installment.plan_id), col(Installment.seq))
        ):
            items.setdefault(i.plan_id, []).append(
                {"seq": i.seq, "due_date": i.due_date, "amount_minor": i.amount_minor, "paid_minor": i.paid_minor}
            )
    return [
        {
            "id": p.id,
            "status": p.status,
            "total_minor": p.total_minor,
            "created_on": p.created_on,
            "ended_on": p.ended_on,
            "installments": items.get(p.id or 0, []),
        }
        for p in plans
    ]


def _legal_case(session: Session, account_id: int) -> dict[str, Any] | None:
    case = session.scalars(sa.select(LegalCase).where(col(LegalCase.account_id) == account_id)).first()
    if case is None:
        return None
    events = session.scalars(
        sa.select(LegalCaseEvent)
        .where(col(LegalCaseEvent.case_id) == case.id)
        .order_by(col(LegalCaseEvent.happened_on), col(LegalCaseEvent.id))
    )
    return {
        "id": case.id,
        "status": case.status,
        "opened_on": case.opened_on,
        "approved_by": case.approved_by,
        "balance_minor": case.balance_minor,
        "costs_minor": case.costs_minor,
        "demand_letter_id": case.demand_letter_id,
        "steps": [
            {"status": e.status, "on": e.happened_on, "cost_minor": e.cost_minor, "note": e.note, "by": e.recorded_by}
            for e in events
        ],
    }
