"""The append-only audit trail. Everything that matters to a customer or an auditor lands here."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlmodel import Session

from overdue.domain.stages import CLOSED
from overdue.store.bulk import insert_rows
from overdue.store.tables import AuditEvent

SYSTEM = "system:cycle"


def audit_row(kind: str, actor: str, ts: datetime, account_id: int | None = None, **data: Any) -> dict[str, Any]:
    return {"kind": kind, "actor": actor, "ts": ts, "account_id": account_id, "data": data}


def stage_changed(
    actor: str, ts: datetime, account_id: int, previous: str, new: str, **data: Any
) -> list[dict[str, Any]]:
    """A stage change, plus `account.resolved` when it closes the account and `account.reopened` when it
    brings a closed one back: an auditor asks for those two without knowing our stage names."""
    rows = [audit_row("stage.changed", actor, ts, account_id, **{"from": previous, "to": new}, **data)]
    if new == CLOSED and previous != CLOSED:
        rows.append(audit_row("account.resolved", actor, ts, account_id, stage_before=previous))
    elif previous == CLOSED and new != CLOSED:
        rows.append(audit_row("account.reopened", actor, ts, account_id, stage=new))
    return rows


def record(session: Session, kind: str, actor: str, ts: datetime, account_id: int | None = None, **data: Any) -> None:
    record_many(session, [audit_row(kind, actor, ts, account_id, **data)])


def record_many(session: Session, rows: Iterable[dict[str, Any]]) -> int:
    batch = list(rows)
    insert_rows(session, AuditEvent, batch)
    return len(batch)
