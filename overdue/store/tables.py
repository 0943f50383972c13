"""The system of record: every account, contact, decision and payment lives here.

Money is integer minor units (64-bit) beside an ISO currency; instants are stored in UTC.
Indexes follow the queries the daily cycle and the dashboard make.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, hands back aware UTC, refuses naive input (a silent local time is a bug)."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def utc_column(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=sa.Column(UTCDateTime(), nullable=nullable, index=index))


def json_column() -> Any:
    return Field(default_factory=dict, sa_column=sa.Column(sa.JSON(), nullable=False))


def sealed_column() -> Any:
    """A Fernet token (overdue/store/sealed.py); only the `..._last4` beside it is in clear."""
    return Field(default=None, sa_column=sa.Column(sa.Text(), nullable=True))


def last4_column() -> Any:
    return Field(default=None, max_length=4)


class Customer(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    external_ref: str = Field(unique=True, max_length=64)
    full_name: str = Field(max_length=200)
    time_zone: str = Field(max_length=64, description="IANA zone, e.g. Asia/Shanghai")
    locale: str = Field(max_length=16, description="en-US or zh-CN")
    jurisdiction: str = Field(max_length=8, description="Policy file name, e.g. US, CN")
    vulnerability: list[str] = Field(default_factory=list, sa_column=sa.Column(sa.JSON(), nullable=False))
    vulnerability_reviewed_on: date | None = Field(default=None, description="A specialist reviewed the case")
    workplace_contact_ok: bool = Field(default=False, description="The customer said contact at work is fine")
    national_id_sealed: str | None = sealed_column()
    national_id_last4: str | None = last4_column()
    created_at: datetime | None = utc_column(nullable=False)


class ContactPoint(SQLModel, table=True):
    """One way to reach a customer on one channel, with consent and opt-out kept per channel."""

    __table_args__ = (
        sa.UniqueConstraint("customer_id", "channel", "address"),
        sa.Index("ix_contactpoint_channel_address", "channel", "address"),  # who sent this reply, bounced, ...
    )
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    channel: str = Field(max_length=16, description="sms, voice, email or letter")
    address: str = Field(max_length=320)
    consent: bool = Field(default=False, description="Consent to automated contact on this channel")
    is_workplace: bool = Field(default=False, description="Reaches the customer at work")
    party: str = Field(
        default="debtor", max_length=16, description="debtor, guarantor or third_party (a relative, a contact)"
    )
    relation: str | None = Field(default=None, max_length=32, description="For a third party: sister, employer, ...")
    opted_out_at: datetime | None = utc_column()
    invalid_at: datetime | None = utc_column()


SENT = sa.text("sent_at IS NOT NULL")
HAS_PROVIDER_ID = sa.text("provider_id IS NOT NULL")


class Account(SQLModel, table=True):
    # On PostgreSQL the table keeps a fifth of each page free (migration 0014): the daily cycle rewrites
    # every open row, and a row whose indexed columns did not change then stays on its page, no index touched.
    __table_args__ = (sa.Index("ix_account_due_date", "due_date"),)
    id: int | None = Field(default=None, primary_key=True)
    external_ref: str = Field(unique=True, max_length=64)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    product: str = Field(max_length=32)
    currency: str = Field(max_length=3)
    principal_minor: int = Field(default=0, sa_type=sa.BigInteger)
    interest_minor: int = Field(default=0, sa_type=sa.BigInteger)
    fees_minor: int = Field(default=0, sa_type=sa.BigInteger)
    placed_balance_minor: int = Field(
        default=0, sa_type=sa.BigInteger, description="Balance when placed for collection"
    )
    due_date: date
    dpd: int = Field(default=0, description="Days past due as of the last cycle (negative before due)")
    stage: str = Field(default="current", max_length=16)
    stage_entered_on: date | None = None
    next_action_on: date | None = Field(default=None, description="Customer-local date of the next step")
    anchor_on: date | None = Field(
        default=None, description="Re-anchored cadence: the stage entered on or before it counts its steps from it"
    )
    broken_plans: int = 0
    credit_minor: int = Field(
        default=0, sa_type=sa.BigInteger, description="Paid beyond the balance (overpayments): owed to the customer"
    )
    accrued_through: date | None = Field(
        default=None, description="Interest and fees have accrued up to this day; None: not since import"
    )
    strategy_arm: str = Field(default="default", max_length=32)
    version: int = 0
    card_number_sealed: str | None = sealed_column()
    card_number_last4: str | None = last4_column()
    bank_account_sealed: str | None = sealed_column()
    bank_account_last4: str | None = last4_column()

    @property
    def balance_minor(self) -> int:
        return self.principal_minor + self.interest_minor + self.fees_minor


class Hold(SQLModel, table=True):
    """A reason to stop collection contact (dispute, hardship, bankruptcy, ...) while it is active."""

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    kind: str = Field(max_length=32)
    reason: str = ""
    starts_on: date
    ends_on: date | None = None
    created_by: str = Field(max_length=64)
    placed_at: datetime | None = utc_column()


class OutreachMessage(SQLModel, table=True):
    """A message written `queued` before any provider call, so a crash never sends twice."""

    __table_args__ = (
        sa.Index("ix_outreach_status_send_at", "status", "send_at"),
        # Only sent messages are looked up by customer and time, by time (a day's sends, for the rollups) or by
        # the provider's id (a status report names only that): queued rows stay out of these indexes.
        sa.Index("ix_outreach_customer_sent_at", "customer_id", "sent_at", postgresql_where=SENT, sqlite_where=SENT),
        sa.Index("ix_outreach_sent_at", "sent_at", postgresql_where=SENT, sqlite_where=SENT),
        sa.Index(
            "ix_outreach_provider_id", "provider_id", postgresql_where=HAS_PROVIDER_ID, sqlite_where=HAS_PROVIDER_ID
        ),
        sa.Index("ix_outreach_account_created", "account_id", "created_at"),  # an account's contact history
    )
    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(unique=True, max_length=160)
    account_id: int = Field(foreign_key="account.id", index=True)
    customer_id: int = Field(foreign_key="customer.id")
    channel: str = Field(max_length=16)
    address: str = Field(max_length=320)
    template: str = Field(max_length=64)
    locale: str = Field(max_length=16)
    stage: str = Field(max_length=16)
    step: str = Field(max_length=64)
    purpose: str = Field(default="collection", max_length=32, description="collection, plan or a notice purpose")
    subject: str | None = Field(default=None, max_length=300)
    body: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    status: str = Field(
        default="queued",
        max_length=16,
        description="queued, sending (claimed for a provider call), sent, failed, blocked, cancelled",
    )
    send_at: datetime | None = utc_column(nullable=False)
    sent_at: datetime | None = utc_column()
    provider: str | None = Field(default=None, max_length=32)
    provider_id: str | None = Field(default=None, max_length=128)
    error: str | None = None
    created_at: datetime | None = utc_column(nullable=False)
    delivery: str | None = Field(
        default=None, max_length=16, description="The provider's latest word: delivered, undelivered, bounced, ..."
    )
    delivery_at: datetime | None = utc_column()


class WebhookReceipt(SQLModel, table=True):
    """Every provider event acted on, once: a second delivery of it finds its id here and changes nothing."""

    __table_args__ = (sa.UniqueConstraint("provider", "event_id"),)
    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(max_length=16)
    event_id: str = Field(max_length=200)
    received_at: datetime | None = utc_column(nullable=False)


class InboundMessage(SQLModel, table=True):
    """A text or an email a customer sent us, as received, with what we understood it to say."""

    __table_args__ = (
        sa.UniqueConstraint("provider", "provider_id"),
        sa.Index("ix_inboundmessage_account_received", "account_id", "received_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16, description="sms or email")
    provider: str = Field(max_length=16)
    provider_id: str = Field(max_length=200, description="Twilio's message sid, or the email's Message-ID")
    from_address: str = Field(max_length=320)
    customer_id: int | None = Field(default=None, foreign_key="customer.id")
    account_id: int | None = Field(default=None, foreign_key="account.id")
    subject: str | None = Field(default=None, max_length=300)
    body: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    intent: str = Field(max_length=32, description="stop, start, help, paid, promise, dispute, hardship, ...")
    promised_on: date | None = None
    received_at: datetime | None = utc_column(nullable=False)


class Evidence(SQLModel, table=True):
    """A document a customer sent us (an email attachment: a receipt, a statement), or one a person attached to
    a task (a hardship report's bank statement), kept sealed: such papers are personal data. The digest
    identifies it without opening it."""

    id: int | None = Field(default=None, primary_key=True)
    inbound_id: int | None = Field(default=None, foreign_key="inboundmessage.id", index=True)
    task_id: int | None = Field(default=None, foreign_key="humantask.id", index=True)
    uploaded_by: str | None = Field(default=None, max_length=64, description="The person who attached it")
    account_id: int | None = Field(default=None, foreign_key="account.id", index=True)
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    size_bytes: int
    sha256: str = Field(max_length=64)
    content_sealed: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    received_at: datetime | None = utc_column(nullable=False)


class Conversation(SQLModel, table=True):
    """A conversation with the customer about a debt (a call answered, a call-back, a chat), as the agent
    logged it. A telephone conversation starts the US 7-day no-call period for that debt."""

    __table_args__ = (sa.Index("ix_conversation_account_at", "account_id", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id")
    channel: str = Field(max_length=16, description="voice, sms, email or in_person")
    at: datetime | None = utc_column(nullable=False)
    outcome: str = Field(max_length=32, description="promise_to_pay, hardship, dispute, refused, ...")
    right_party: bool = Field(default=True, description="Spoke with the debtor (right-party contact)")
    promised_on: date | None = None
    promised_minor: int | None = Field(default=None, sa_type=sa.BigInteger)
    note: str = Field(default="", sa_column=sa.Column(sa.Text(), nullable=False))
    recorded_by: str = Field(max_length=64)
    created_at: datetime | None = utc_column(nullable=False)


class HumanTask(SQLModel, table=True):
    """A judgment call for a person. Decided only by a conditional write on (id, open, version)."""

    __table_args__ = (
        sa.Index("ix_humantask_status_kind", "status", "kind"),
        sa.Index("ix_humantask_assignee_status", "assignee", "status"),
        # The pending queue in SLA order, for the inbox's pages and the SLA sweep: a partial index, so the tasks
        # decided long ago (most of the table) are not in it.
        sa.Index(
            "ix_humantask_pending_due",
            "due_at",
            "id",
            postgresql_where=sa.text("status IN ('open', 'info_requested')"),
            sqlite_where=sa.text("status IN ('open', 'info_requested')"),
        ),
        sa.Index("ix_humantask_decided_at", "decided_at"),  # the inbox's decided tasks, latest first
    )
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    account_id: int = Field(foreign_key="account.id", index=True)
    payload: dict[str, Any] = json_column()
    role_needed: str = Field(max_length=32)
    requested_by: str = Field(max_length=64)
    assignee: str | None = Field(default=None, max_length=64)
    due_at: datetime | None = utc_column()
    escalated_at: datetime | None = utc_column()
    escalated_to: str | None = Field(default=None, max_length=32, description="The role a breached SLA went to")
    status: str = Field(
        default="open", max_length=16, description="open, info_requested, approved, rejected, withdrawn"
    )
    decided_by: str | None = Field(default=None, max_length=64)
    decided_at: datetime | None = utc_column()
    reason: str | None = None
    version: int = 0
    created_at: datetime | None = utc_column(nullable=False)


class Offer(SQLModel, table=True):
    """Terms put to a customer: the total payable, the schedule (its amounts sum exactly to the total) and
    what happens to interest and fees, written once when the offer is made so the customer accepts exactly
    what was shown. Outside the bounds it waits (`pending_approval`) for one or two people."""

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    kind: str = Field(default="installment", max_length=32)
    status: str = Field(
        default="open", max_length=16, description="pending_approval, open, accepted, expired, rejected, withdrawn"
    )
    total_minor: int = Field(sa_type=sa.BigInteger)
    installments: int
    first_due_date: date
    created_on: date
    expires_on: date
    accepted_at: datetime | None = utc_column()
    accepted_via: str | None = Field(default=None, max_length=32)
    accepted_by: str | None = Field(default=None, max_length=64)
    balance_minor: int = Field(default=0, sa_type=sa.BigInteger, description="The balance the offer was made on")
    discount_minor: int = Field(default=0, sa_type=sa.BigInteger, description="Written off when a settlement is kept")
    schedule: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=sa.Column(sa.JSON(), nullable=False), description="[{due_date, amount_minor}]"
    )
    interest: str = Field(default="accrues", max_length=16, description="accrues, frozen or waived under the plan")
    fees: str = Field(default="accrues", max_length=16)
    on_kept: str = Field(default="cure", max_length=16, description="cure, settle or review")
    outside_bounds: list[str] = Field(default_factory=list, sa_column=sa.Column(sa.JSON(), nullable=False))
    approvals_needed: int = 0
    requested_by: str = Field(default="system:cycle", max_length=64)
    approved_by: str | None = Field(default=None, max_length=140)
    recording_ref: str | None = Field(default=None, max_length=200, description="Recording of an oral agreement")


class PaymentPlan(SQLModel, table=True):
    """An accepted offer, or a promise to pay (one installment), monitored to the day."""

    __table_args__ = (sa.Index("ix_paymentplan_status", "status"),)
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    offer_id: int | None = Field(default=None, foreign_key="offer.id")
    status: str = Field(default="active", max_length=16, description="active, kept, broken, replaced")
    total_minor: int = Field(sa_type=sa.BigInteger)
    grace_days: int
    created_on: date
    ended_on: date | None = None
    kind: str = Field(default="installment", max_length=32, description="An offer kind, or promise")
    interest: str = Field(default="accrues", max_length=16, description="accrues, frozen or waived while active")
    fees: str = Field(default="accrues", max_length=16)
    on_kept: str = Field(default="cure", max_length=16)
    discount_minor: int = Field(default=0, sa_type=sa.BigInteger)
    created_by: str | None = Field(default=None, max_length=64)


class Installment(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("plan_id", "seq"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="paymentplan.id", index=True)
    seq: int
    due_date: date
    amount_minor: int = Field(sa_type=sa.BigInteger)
    paid_minor: int = Field(default=0, sa_type=sa.BigInteger)


class AffordabilityStatement(SQLModel, table=True):
    """What a customer told us they earn and spend each month, and the capacity to pay it gives
    (overdue/domain/affordability.py). The latest statement of a customer is the one offers use."""

    __table_args__ = (sa.Index("ix_affordability_customer_recorded", "customer_id", "recorded_at"),)
    id: int | None = Field(default=None, primary_key=True)
    statement_ref: str | None = Field(default=None, unique=True, max_length=128, description="From an import file")
    customer_id: int = Field(foreign_key="customer.id")
    account_id: int | None = Field(default=None, foreign_key="account.id")
    currency: str = Field(max_length=3)
    income_minor: int = Field(sa_type=sa.BigInteger)
    expenses_minor: int = Field(sa_type=sa.BigInteger)
    dependants: int
    capacity_minor: int = Field(sa_type=sa.BigInteger)
    source: str = Field(max_length=16, description="agent, sms, email or import")
    recorded_by: str = Field(max_length=64)
    note: str = Field(default="", sa_column=sa.Column(sa.Text(), nullable=False))
    hardship_hold_id: int | None = Field(default=None, foreign_key="hold.id")
    recorded_at: datetime | None = utc_column(nullable=False)


class Payment(SQLModel, table=True):
    """A payment as the provider reported it; its id is unique so a re-import changes nothing.

    A reversal or chargeback is a row of its own (its own reference, unique too) with every amount the negative
    of the payment it `reverses`, so sums over this table are net of them; a payment is reversed at most once."""

    __table_args__ = (
        sa.Index("ix_payment_reverses_id", "reverses_id", unique=True),
        sa.Index("ix_payment_received_on", "received_on"),  # a day's payments, for the rollups
    )
    id: int | None = Field(default=None, primary_key=True)
    payment_ref: str = Field(unique=True, max_length=128)
    account_id: int = Field(foreign_key="account.id", index=True)
    kind: str = Field(default="payment", max_length=16, description="payment, reversal or chargeback")
    reverses_id: int | None = Field(default=None, foreign_key="payment.id")
    amount_minor: int = Field(sa_type=sa.BigInteger)
    currency: str = Field(max_length=3)
    received_on: date
    source: str = Field(max_length=16, description="import, sim, webhook")
    to_fees_minor: int = Field(default=0, sa_type=sa.BigInteger)
    to_interest_minor: int = Field(default=0, sa_type=sa.BigInteger)
    to_principal_minor: int = Field(default=0, sa_type=sa.BigInteger)
    unapplied_minor: int = Field(default=0, sa_type=sa.BigInteger)
    created_at: datetime | None = utc_column(nullable=False)


class InstallmentAllocation(SQLModel, table=True):
    """The part of a payment (or, negative, of its reversal) that went to one installment of a plan: what a
    reversal re-opens."""

    id: int | None = Field(default=None, primary_key=True)
    payment_id: int = Field(foreign_key="payment.id", index=True)
    installment_id: int = Field(foreign_key="installment.id", index=True)
    amount_minor: int = Field(sa_type=sa.BigInteger)


class TaskActivity(SQLModel, table=True):
    """What happened to a task besides its decision, in order: claims, assignments, comments, attachments, a
    first approval, an SLA escalation. The task's own row holds its current state."""

    __table_args__ = (sa.Index("ix_taskactivity_task_at", "task_id", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="humantask.id")
    kind: str = Field(max_length=24, description="claim, assign, release, comment, attachment, approval, ...")
    actor: str = Field(max_length=64)
    at: datetime | None = utc_column(nullable=False)
    text: str = Field(default="", sa_column=sa.Column(sa.Text(), nullable=False))
    evidence_id: int | None = Field(default=None, foreign_key="evidence.id")


class LegalCase(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    task_id: int = Field(foreign_key="humantask.id", unique=True)
    status: str = Field(
        default="approved",
        max_length=24,
        description="approved, letter_sent, filed, judgment, enforcement, settled, withdrawn",
    )
    balance_minor: int = Field(sa_type=sa.BigInteger)
    opened_on: date
    approved_by: str = Field(max_length=64)
    costs_minor: int = Field(default=0, sa_type=sa.BigInteger, description="Legal costs so far, account currency")
    demand_letter_id: int | None = Field(
        default=None, foreign_key="outreachmessage.id", description="Set by the continuation once it has run"
    )
    version: int = 0


class LegalCaseEvent(SQLModel, table=True):
    """One step of a case (letter sent, filed, judgment, ...) with the day it happened and what it cost."""

    __table_args__ = (sa.Index("ix_legalcaseevent_case_on", "case_id", "happened_on"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="legalcase.id")
    status: str = Field(max_length=24)
    happened_on: date
    cost_minor: int = Field(default=0, sa_type=sa.BigInteger)
    note: str = Field(default="", sa_column=sa.Column(sa.Text(), nullable=False))
    recorded_by: str = Field(max_length=64)
    recorded_at: datetime | None = utc_column(nullable=False)


class CycleShard(SQLModel, table=True):
    """One shard of one business date's cycle. Done is written in the same transaction as the shard's work,
    and a worker holds the row locked while it works, so each shard is done exactly once, by one worker."""

    __table_args__ = (sa.UniqueConstraint("as_of", "low"),)
    id: int | None = Field(default=None, primary_key=True)
    as_of: date
    low: int
    high: int
    status: str = Field(default="pending", max_length=16, description="pending or done")
    worker: str | None = Field(default=None, max_length=128, description="Who did it (host:pid)")


class AuditEvent(SQLModel, table=True):
    """Append-only: the application inserts and never updates or deletes."""

    __table_args__ = (
        sa.Index("ix_auditevent_account_ts", "account_id", "ts"),
        sa.Index("ix_auditevent_kind_ts", "kind", "ts"),
    )
    id: int | None = Field(default=None, primary_key=True)
    ts: datetime | None = utc_column(nullable=False)
    account_id: int | None = Field(default=None, foreign_key="account.id")
    actor: str = Field(max_length=64)
    kind: str = Field(max_length=48)
    data: dict[str, Any] = json_column()


class DashboardUser(SQLModel, table=True):
    """A person who signs in to the dashboard. The password is kept only as a salted scrypt hash
    (overdue/domain/passwords.py); roles decide which pages and actions the person gets."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=64, description="The id recorded with every decision")
    password_hash: str = Field(max_length=256)
    roles: list[str] = Field(default_factory=list, sa_column=sa.Column(sa.JSON(), nullable=False))
    locale: str = Field(default="en-US", max_length=16, description="en-US or zh-CN: the dashboard's language")
    disabled_at: datetime | None = utc_column()
    created_at: datetime | None = utc_column(nullable=False)
    password_changed_at: datetime | None = utc_column(nullable=False)


class DashboardSession(SQLModel, table=True):
    """One sign-in. Only a digest of the session id is stored, so reading this table signs nobody in; signing
    out, disabling the user or changing the password revokes it on the server, whatever cookie is still out."""

    id: int | None = Field(default=None, primary_key=True)
    token_digest: str = Field(unique=True, max_length=64)
    user_id: int = Field(foreign_key="dashboarduser.id", index=True)
    created_at: datetime | None = utc_column(nullable=False)
    expires_at: datetime | None = utc_column(nullable=False)
    cookie_issued_at: datetime | None = utc_column()
    revoked_at: datetime | None = utc_column()


class SignInFailure(SQLModel, table=True):
    """A failed dashboard sign-in, kept while it can still count towards a lock (overdue/domain/signin_throttle.py):
    in the database, so locks hold across restarts and every dashboard process. The audit trail keeps them for
    good; `overdue users unlock NAME` deletes a name's rows."""

    __table_args__ = (
        sa.Index("ix_signinfailure_name_at", "name", "at"),
        sa.Index("ix_signinfailure_client_at", "client", "at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, description="The name typed, whether or not such a user exists")
    client: str = Field(default="", max_length=64, description="The client's address, or '' when unknown")
    at: datetime | None = utc_column(nullable=False)


class MetricRollup(SQLModel, table=True):
    """One figure of one business date per strategy arm, written by the daily cycle's last step
    (overdue/services/rollups.py). The managers' page reads only these rows: a year of them is a few hundred
    thousand, where the facts behind them are millions of accounts and tens of millions of events."""

    __table_args__ = (sa.UniqueConstraint("metric", "as_of", "arm", "key1", "key2"),)
    id: int | None = Field(default=None, primary_key=True)
    metric: str = Field(max_length=24)
    as_of: date
    arm: str = Field(max_length=32)
    key1: str = Field(default="", max_length=32)
    key2: str = Field(default="", max_length=32)
    count: int = Field(default=0, sa_type=sa.BigInteger)
    amount_minor: int = Field(default=0, sa_type=sa.BigInteger)


class DpdSnapshot(SQLModel, table=True):
    """Each account's DPD bucket as the last rollup saw it: the 'from' of tomorrow's roll-rate matrix.

    No foreign key to `account`, on purpose: a derived cache of account ids (accounts are never deleted), and the
    key's check locks every referenced account row, which made the first day's million-row insert take minutes."""

    account_id: int = Field(primary_key=True)
    bucket: int = Field(sa_type=sa.SmallInteger)
    as_of: date


class WebhookError(SQLModel, table=True):
    """A provider callback we refused or failed on (a bad signature, a replay, a crash), for the engineers'
    page: the request's path, the status we answered and why; never its body, which may hold personal data."""

    __table_args__ = (sa.Index("ix_webhookerror_received_at", "received_at"),)
    id: int | None = Field(default=None, primary_key=True)
    received_at: datetime | None = utc_column(nullable=False)
    path: str = Field(max_length=200)
    status: int
    detail: str = Field(max_length=300)
