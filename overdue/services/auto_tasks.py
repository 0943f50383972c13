"""Tasks the product opens by itself (a complaint read in a reply, a call-back, a vulnerable customer's review):
at most one pending task per account and kind, so a rerun, a second reply or the next cycle never adds another.

Set-based for the cycle: one query for the accounts that have one already, one insert for the rest."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from overdue.domain import tasks as rules
from overdue.services.audit import audit_row, record_many
from overdue.store.bulk import chunked
from overdue.store.tables import HumanTask


def open_once(
    session: Session,
    kind: str,
    role: str,
    sla_hours: int,
    payloads: Mapping[int, dict[str, Any]],
    requested_by: str,
    now: datetime,
) -> list[int]:
    """Open a `kind` task for each account in `payloads` ({account id: payload}) that has no pending one;
    returns the accounts that got one. Each opening is audited as `task.created`."""
    pending: set[int] = set()
    for chunk in chunked(sorted(payloads), 1000):
        pending.update(
            session.scalars(
                sa.select(col(HumanTask.account_id)).where(
                    col(HumanTask.account_id).in_(chunk),
                    col(HumanTask.kind) == kind,
                    col(HumanTask.status).in_(rules.PENDING),
                )
            )
        )
    new = [account_id for account_id in sorted(payloads) if account_id not in pending]
    if not new:
        return []
    due_at = now + timedelta(hours=sla_hours)
    rows = [
        {
            "kind": kind,
            "account_id": account_id,
            "payload": payloads[account_id],
            "role_needed": role,
            "requested_by": requested_by,
            "due_at": due_at,
            "status": rules.OPEN,
            "version": 0,
            "created_at": now,
        }
        for account_id in new
    ]
    session.execute(sa.insert(HumanTask), rows)
    record_many(session, (audit_row("task.created", requested_by, now, a, task_kind=kind) for a in new))
    return new
