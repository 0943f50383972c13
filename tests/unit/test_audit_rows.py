"""The audit rows a stage change writes: auditors ask for resolved and reopened accounts by name."""

from __future__ import annotations

from datetime import UTC, datetime

from overdue.services.audit import stage_changed

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def kinds(previous: str, new: str) -> list[str]:
    return [row["kind"] for row in stage_changed("system:cycle", NOW, 7, previous, new)]


def test_closing_an_account_also_resolves_it() -> None:
    assert kinds("negotiation", "closed") == ["stage.changed", "account.resolved"]


def test_a_closed_account_coming_back_is_reopened() -> None:
    rows = stage_changed("ops.bo", NOW, 7, "closed", "reminder", reason="payment reversed")
    assert [r["kind"] for r in rows] == ["stage.changed", "account.reopened"]
    assert rows[0]["data"] == {"from": "closed", "to": "reminder", "reason": "payment reversed"}
    assert rows[1]["data"] == {"stage": "reminder"}


def test_other_moves_are_only_stage_changes() -> None:
    assert kinds("reminder", "negotiation") == ["stage.changed"]
