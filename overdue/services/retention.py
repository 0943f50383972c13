"""Operational records that only matter for a while, pruned so their tables stay small. Audit events are not
among them: the application never deletes those (settings.audit_retention_days is what operators must keep).

- webhook receipts: the replay guard of provider callbacks. Providers stop retrying within days (SendGrid
  within 72 hours) and an inbound text or email is unique on its own provider id besides.
- webhook errors: what the engineers' page lists.
- dashboard sign-ins that expired or were revoked (a digest only; the sign-in itself is audited).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col

from overdue.services.audit import SYSTEM, record
from overdue.store.tables import DashboardSession, WebhookError, WebhookReceipt


def prune(session: Session, now: datetime, keep_days: int, *, dry_run: bool = False) -> dict[str, int]:
    """Delete what is older than `keep_days` (sign-ins: ended that long ago); returns rows per table. A dry
    run counts and deletes nothing."""
    before = now - timedelta(days=keep_days)
    ended = sa.func.coalesce(col(DashboardSession.revoked_at), col(DashboardSession.expires_at))
    targets = {
        "webhook_receipts": (WebhookReceipt, col(WebhookReceipt.received_at) < before),
        "webhook_errors": (WebhookError, col(WebhookError.received_at) < before),
        "dashboard_sign_ins": (DashboardSession, ended < before),
    }
    counts: dict[str, int] = {}
    for name, (table, old) in targets.items():
        if dry_run:
            counts[name] = session.scalar(sa.select(sa.func.count()).select_from(table).where(old)) or 0
        else:
            deleted = session.execute(sa.delete(table).where(old).execution_options(synchronize_session=False))
            counts[name] = deleted.rowcount  # type: ignore[attr-defined]
    if not dry_run and any(counts.values()):
        record(session, "records.pruned", SYSTEM, now, None, keep_days=keep_days, **counts)
    return counts
