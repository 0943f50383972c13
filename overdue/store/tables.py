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


class Account(SQLModel, table=True):
    __table_args__ = (
        sa.Index("ix_account_stage_next_action", "stage", "next_action_on"),
        sa.Index("ix_account_due_date", "due_date"),
    )
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
    broken_plans: int = 0
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
        sa.Index("ix_outreach_customer_sent_at", "customer_id", "sent_at"),
        sa.Index("ix_outreach_provider_id", "provider_id"),  # a status report names only the provider's id
        sa.Index("ix_outreach_sent_at", "sent_at"),  # a day's sends, for the rollups
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
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    kind: str = Field(default="installment", max_length=32)
    status: str = Field(default="open", max_length=16, description="open, accepted, expired")
    total_minor: int = Field(sa_type=sa.BigInteger)
    installments: int
    first_due_date: date
    created_on: date
    expires_on: date
    accepted_at: datetime | None = utc_column()
    accepted_via: str | None = Field(default=None, max_length=32)
    accepted_by: str | None = Field(default=None, max_length=64)


class PaymentPlan(SQLModel, table=True):
    __table_args__ = (sa.Index("ix_paymentplan_status", "status"),)
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    offer_id: int | None = Field(default=None, foreign_key="offer.id")
    status: str = Field(default="active", max_length=16, description="active, kept, broken")
    total_minor: int = Field(sa_type=sa.BigInteger)
    grace_days: int
    created_on: date
    ended_on: date | None = None


class Installment(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("plan_id", "seq"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="paymentplan.id", index=True)
    seq: int
    due_date: date
    amount_minor: int = Field(sa_type=sa.BigInteger)
    paid_minor: int = Field(default=0, sa_type=sa.BigInteger)


class Payment(SQLModel, table=True):
    """A payment as the provider reported it; its id is unique so a re-import changes nothing."""

    __table_args__ = (sa.Index("ix_payment_received_on", "received_on"),)  # a day's payments, for the rollups

    id: int | None = Field(default=None, primary_key=True)
    payment_ref: str = Field(unique=True, max_length=128)
    account_id: int = Field(foreign_key="account.id", index=True)
    amount_minor: int = Field(sa_type=sa.BigInteger)
    currency: str = Field(max_length=3)
    received_on: date
    source: str = Field(max_length=16, description="import, sim, webhook")
    to_fees_minor: int = Field(default=0, sa_type=sa.BigInteger)
    to_interest_minor: int = Field(default=0, sa_type=sa.BigInteger)
    to_principal_minor: int = Field(default=0, sa_type=sa.BigInteger)
    unapplied_minor: int = Field(default=0, sa_type=sa.BigInteger)
    created_at: datetime | None = utc_column(nullable=False)


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
