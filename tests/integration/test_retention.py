"""Operational records past their retention are pruned, on SQLite and PostgreSQL; audit events never are."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col
from typer.testing import CliRunner

from overdue.cli import app
from overdue.runtime import Runtime
from overdue.services.retention import prune
from overdue.services.users import add_user
from overdue.store.tables import AuditEvent, DashboardSession, WebhookError, WebhookReceipt

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


def count(session: Session, table: type) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(table)) or 0


def test_old_receipts_errors_and_ended_sign_ins_go_the_rest_stays(session: Session, runtime: Runtime) -> None:
    old, recent = NOW - timedelta(days=91), NOW - timedelta(days=89)
    for n, at in enumerate((old, recent)):
        session.add(WebhookReceipt(provider="twilio", event_id=f"SM{n}", received_at=at))
        session.add(WebhookError(received_at=at, path="/twilio/status", status=403, detail="bad signature"))
    user = add_user(session, "ada", "a long enough password", ["admin"], "en-US", "admin", NOW)
    for n, (expires, revoked) in enumerate([(old, None), (NOW + timedelta(hours=1), old), (recent, None)]):
        session.add(
            DashboardSession(
                token_digest=f"{n:064d}", user_id=user.id, created_at=old, expires_at=expires, revoked_at=revoked
            )
        )
    session.flush()
    audits_before = count(session, AuditEvent)

    assert prune(session, NOW, 90, dry_run=True) == {
        "webhook_receipts": 1,
        "webhook_errors": 1,
        "dashboard_sign_ins": 2,
    }
    assert (count(session, WebhookReceipt), count(session, DashboardSession)) == (2, 3), "a dry run deletes nothing"
    assert prune(session, NOW, 90) == {"webhook_receipts": 1, "webhook_errors": 1, "dashboard_sign_ins": 2}
    assert session.scalars(sa.select(col(WebhookReceipt.event_id))).all() == ["SM1"]
    assert count(session, WebhookError) == count(session, DashboardSession) == 1
    assert count(session, AuditEvent) == audits_before + 1, "the pruning is itself audited; nothing audited goes"
    assert prune(session, NOW, 90) == {"webhook_receipts": 0, "webhook_errors": 0, "dashboard_sign_ins": 0}


def test_db_prune_from_the_cli(runtime: Runtime) -> None:
    result = CliRunner().invoke(app, ["db", "prune", "--dry-run", "--database-url", runtime.database_url])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())  # the console wraps at its width
    assert "Older than 90 days, would prune: 0 webhook receipts, 0 webhook errors, 0 dashboard sign ins" in said
