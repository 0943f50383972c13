"""The append-only audit trail. Everything that matters to a customer or an auditor lands here."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlmodel import Session

from overdue.domain.sms import SmsSize
from overdue.domain.stages import CLOSED
from overdue.store.bulk import insert_rows
from overdue.store.tables import AuditEvent

SYSTEM = "system:cycle"
HELD_BACK = "audit_held_back"  # session.info key: events waiting for the end of a batch
SMS_TOO_LONG = "sms too long"


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


def sms_too_long_row(account_id: int, now: datetime, size: SmsSize, max_segments: int, **data: Any) -> dict[str, Any]:
    """A `message.skipped` event for an SMS that rendered longer than the strategy's `sms_max_segments`."""
    return audit_row(
        "message.skipped",
        SYSTEM,
        now,
        account_id,
        reason=SMS_TOO_LONG,
        segments=size.segments,
        encoding=size.encoding,
        max_segments=max_segments,
        **data,
    )


def record(session: Session, kind: str, actor: str, ts: datetime, account_id: int | None = None, **data: Any) -> None:
    record_many(session, [audit_row(kind, actor, ts, account_id, **data)])


def record_many(session: Session, rows: Iterable[dict[str, Any]]) -> int:
    batch = list(rows)
    held = session.info.get(HELD_BACK)
    if held is None:
        insert_rows(session, AuditEvent, batch)
    else:
        held.extend(batch)
    return len(batch)


@contextmanager
def held_back(session: Session) -> Iterator[None]:
    """Events recorded inside are written in one statement as it ends, in the order they were recorded (the
    same rows and ids as one at a time): for a batch that records thousands and reads none of them back. An
    error inside writes none of them; the caller's transaction is undone anyway."""
    if HELD_BACK in session.info:
        yield  # inside another batch: its end writes these too
        return
    held: list[dict[str, Any]] = []
    session.info[HELD_BACK] = held
    try:
        yield
    finally:
        del session.info[HELD_BACK]
    insert_rows(session, AuditEvent, held)
