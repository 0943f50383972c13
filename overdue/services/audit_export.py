"""The audit trail as an auditor reads it: one JSON object per event, in a stable vocabulary.

Our internal kinds are named after what the code did (`message.sent`); the export names what happened
to the customer (`contact.sent`), so the format survives refactoring. Events stream from the database
in batches, so exporting millions of them needs no more memory than exporting ten.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col

from overdue.config.models import CHANNELS
from overdue.store.tables import Account, AuditEvent, Customer, HumanTask, OutreachMessage

# Internal kind -> export type. Every kind the application writes is listed, so a rename shows up here;
# a kind not listed (a newer writer than this table) is exported under its own name rather than dropped.
EXPORT_TYPES: dict[str, str] = {
    "message.queued": "contact.queued",
    "message.sent": "contact.sent",
    "message.delivered": "contact.delivered",  # the provider's report; data.provider
    "message.failed": "contact.failed",  # data.failure at sending, or data.stage "delivery" and data.delivery after
    "message.unconfirmed": "contact.unconfirmed",  # no answer from the provider: maybe sent, never sent again
    "message.opened": "contact.opened",
    "message.clicked": "contact.clicked",
    "message.blocked": "contact.blocked",  # data.rules: the compliance rule ids that blocked it
    "message.cancelled": "contact.cancelled",
    "message.skipped": "contact.skipped",
    "stage.changed": "stage.changed",  # data.from, data.to
    "task.created": "task.created",  # data.task_id, data.kind
    "task.decided": "task.decided",  # data.task_id, data.kind, data.decision: approved or rejected
    "task.withdrawn": "task.withdrawn",  # data.task_id, data.kind
    "vulnerability.reviewed": "vulnerability.reviewed",  # a specialist decided how contact may continue
    "payment.received": "payment.received",  # data.order, data.fees/interest/principal, data.credit_minor
    "payment.reversed": "payment.reversed",  # data.reversal_kind (reversal, chargeback), data.reverses
    "plan.reopened": "plan.reopened",  # a payment that had kept it was reversed
    "plan.created": "plan.created",
    "plan.kept": "plan.kept",
    "plan.broken": "plan.broken",
    "offer.made": "offer.made",
    "offer.accepted": "offer.accepted",
    "offer.expired": "offer.expired",
    "offer.approved": "offer.approved",  # data.approved_by: one or two people (maker-checker)
    "offer.rejected": "offer.rejected",
    "offer.withdrawn": "offer.withdrawn",
    "task.approval_recorded": "task.approval_recorded",  # one of two approvals; the task stays open
    "plan.replaced": "plan.replaced",  # a promise to pay replaced by an accepted plan
    "promise.made": "promise.made",  # data.amount_minor, data.on, data.source
    "affordability.recorded": "affordability.recorded",  # data.capacity_minor, data.source
    "account.settled": "account.settled",  # data.written_off per part, when a settlement is kept
    "account.cured": "account.cured",  # a kept plan: back to current, data.due_date for what remains
    "hold.placed": "hold.placed",
    "hold.released": "hold.released",
    "dispute.opened": "dispute.opened",  # data.received_on, data.written; US: data.within_validation_period
    "dispute.resolved": "dispute.resolved",  # data.resolution: verified, or why else it ended
    "account.resolved": "account.resolved",  # data.stage_before
    "account.reopened": "account.reopened",  # data.stage
    "legal_case.opened": "legal.escalated",
    "account.imported": "account.imported",
    "conversation": "conversation",  # data.channel, data.outcome, data.conversation_id
    "optout": "optout",  # data.channel, data.source
    "optin": "optin",
    "consent.granted": "consent.granted",  # data.channel, data.source: the consent history
    "consent.revoked": "consent.revoked",
    "contact_point.added": "contact_point.added",  # data.party: debtor, guarantor or third_party
    "contact_point.invalidated": "contact_point.invalidated",  # data.channel, data.reason: a provider's or a reply's
    "inbound.received": "inbound.received",  # a customer's text or email: data.channel, data.intent, data.inbound_id
    "pii.revealed": "pii.revealed",
    "records.pruned": "records.pruned",  # data: rows per table and keep_days (overdue/services/retention.py)
}
CONTACT_PREFIX = "contact."
DEFAULT_PURPOSE = "collection"
SYSTEM_ACTOR = "system"


@dataclass(frozen=True)
class ExportFilter:
    """Which events to export; instants are aware, `since` inclusive and `until` exclusive."""

    account_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


def _query(selection: ExportFilter) -> sa.Select[Any]:
    key = col(AuditEvent.data)["key"].as_string()
    task_kind = col(AuditEvent.data)["task_kind"].as_string()
    task_id = col(AuditEvent.data)["task_id"].as_integer()
    message_channel = (
        sa.select(col(OutreachMessage.channel)).where(col(OutreachMessage.idempotency_key) == key).scalar_subquery()
    )
    # The cycle writes its tasks in bulk and its task.created rows carry no task id: the task is the one
    # of that kind the cycle created for that account at that instant.
    created_task = (
        sa.select(sa.func.min(col(HumanTask.id)))
        .where(
            col(HumanTask.account_id) == col(AuditEvent.account_id),
            col(HumanTask.created_at) == col(AuditEvent.ts),
            col(HumanTask.kind) == task_kind,
        )
        .scalar_subquery()
    )
    kind_of_task = sa.select(col(HumanTask.kind)).where(col(HumanTask.id) == task_id).scalar_subquery()
    query = (
        sa.select(
            col(AuditEvent.id),
            col(AuditEvent.ts),
            col(AuditEvent.account_id),
            col(AuditEvent.actor),
            col(AuditEvent.kind),
            col(AuditEvent.data),
            col(Customer.time_zone),
            col(Customer.jurisdiction),
            sa.case((col(AuditEvent.kind).startswith("message."), message_channel)).label("message_channel"),
            sa.case((col(AuditEvent.kind) == "task.created", created_task)).label("created_task_id"),
            sa.case((col(AuditEvent.kind).startswith("task."), kind_of_task)).label("task_kind"),
        )
        .outerjoin(Account, col(Account.id) == col(AuditEvent.account_id))
        .outerjoin(Customer, col(Customer.id) == col(Account.customer_id))
        .order_by(col(AuditEvent.id))
    )
    if selection.account_id is not None:
        query = query.where(col(AuditEvent.account_id) == selection.account_id)
    if selection.since is not None:
        query = query.where(col(AuditEvent.ts) >= selection.since)
    if selection.until is not None:
        query = query.where(col(AuditEvent.ts) < selection.until)
    return query


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _utc_iso(ts: datetime) -> str:
    return ts.isoformat().replace("+00:00", "Z")


def export_actor(actor: str) -> str:
    """The cycle's internal actor names are implementation detail: to an auditor they are all 'system'."""
    return SYSTEM_ACTOR if actor.startswith("system:") else actor


def _event(row: sa.Row[Any]) -> dict[str, Any]:
    kind: str = row.kind
    export_type = EXPORT_TYPES.get(kind, kind)
    data = dict(row.data)
    channel = data.get("channel") or row.message_channel
    if channel not in CHANNELS:
        channel = None  # a conversation in person happened on no channel of ours
    if export_type.startswith(CONTACT_PREFIX):
        data.setdefault("purpose", DEFAULT_PURPOSE)
    if export_type.startswith("task."):
        data.pop("task_kind", None)
        if row.created_task_id is not None:
            data.setdefault("task_id", row.created_task_id)
        data["kind"] = row.task_kind or row.data.get("task_kind")
    ts: datetime = row.ts
    return {
        "id": row.id,
        "ts": _utc_iso(ts),
        "local_ts": ts.astimezone(_zone(row.time_zone)).isoformat() if row.time_zone else None,
        "account_id": row.account_id,
        "jurisdiction": row.jurisdiction,
        "type": export_type,
        "channel": channel,
        "actor": export_actor(row.actor),
        "data": data,
    }


def export_events(session: Session, selection: ExportFilter, batch_size: int = 1000) -> Iterator[dict[str, Any]]:
    """Events in id order, fetched `batch_size` rows at a time (a server-side cursor on PostgreSQL)."""
    result = session.execute(_query(selection).execution_options(yield_per=batch_size))
    for row in result:
        yield _event(row)


def write_jsonl(events: Iterator[dict[str, Any]], stream: TextIO) -> int:
    """One compact JSON object per line; returns how many were written."""
    count = 0
    for event in events:
        stream.write(json.dumps(event, ensure_ascii=False, separators=(",", ":")))
        stream.write("\n")
        count += 1
    return count
