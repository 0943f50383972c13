"""The task queue's rules and the litigation steps at their boundaries, and configs/tasks.yaml's validation."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from overdue.config import ConfigError, load_configuration
from overdue.config.models import Amounts, Condition, Escalation, EscalationRule
from overdue.domain import litigation
from overdue.domain import tasks as rules
from overdue.domain.escalation import approvals_needed
from overdue.settings import PROJECT_ROOT

NOW = datetime(2026, 4, 1, 12, tzinfo=UTC)
TASK = rules.TaskView(7, "open", "legal", "system:cycle", None)


def code(refusal: rules.Refusal | None) -> str | None:
    return refusal.code if refusal else None


def test_the_sla_is_breached_from_the_due_instant_on() -> None:
    assert not rules.sla_breached("open", NOW + timedelta(seconds=1), NOW)
    assert rules.sla_breached("open", NOW, NOW)
    assert not rules.sla_breached("open", None, NOW)


def test_a_task_waiting_for_information_is_never_breached() -> None:
    assert rules.sla_paused("info_requested")
    assert not rules.sla_breached("info_requested", NOW - timedelta(days=3), NOW)
    assert not rules.sla_paused("open")


@pytest.mark.parametrize(
    ("status", "roles", "expected"),
    [
        ("info_requested", {"legal"}, None),
        ("info_requested", {"agent"}, "needs_role"),
        ("open", {"legal"}, "not_waiting"),
        ("approved", {"legal"}, "already"),
    ],
)
def test_who_may_say_the_information_arrived(status: str, roles: set[str], expected: str | None) -> None:
    task = rules.TaskView(7, status, "legal", "system:cycle", None)
    assert code(rules.refuse_info_received(task, roles)) == expected


@pytest.mark.parametrize(
    ("task", "user", "roles", "expected"),
    [
        (TASK, "lee", {"legal"}, None),
        (TASK, "ann", {"agent"}, "needs_role"),
        (rules.TaskView(7, "open", "legal", "x", None, escalated_to="supervisor"), "sam", {"supervisor"}, None),
        (rules.TaskView(7, "open", "legal", "x", "kim"), "lee", {"legal"}, "claimed_by"),
        (rules.TaskView(7, "open", "legal", "x", "lee"), "lee", {"legal"}, None),
        (rules.TaskView(7, "approved", "legal", "x", None), "lee", {"legal"}, "already"),
    ],
)
def test_claim(task: rules.TaskView, user: str, roles: set[str], expected: str | None) -> None:
    assert code(rules.refuse_claim(task, user, roles)) == expected


def test_assign_and_release() -> None:
    held = rules.TaskView(7, "info_requested", "legal", "x", "kim")
    assert code(rules.refuse_assign(held, {"legal"})) == "queue_managers"
    assert code(rules.refuse_assign(held, {"supervisor"})) is None
    assert code(rules.refuse_assign(held, {"admin"})) is None
    assert code(rules.refuse_release(held, "kim", {"legal"})) is None
    assert code(rules.refuse_release(held, "lee", {"legal"})) == "claimed_by"
    assert code(rules.refuse_release(held, "sam", {"supervisor"})) is None
    assert code(rules.refuse_release(TASK, "lee", {"legal"})) == "not_claimed"


@pytest.mark.parametrize(
    ("decision", "user", "roles", "approved_by", "expected"),
    [
        ("approve", "lee", {"legal"}, (), None),
        ("approve", "system:cycle", {"legal"}, (), "own_request"),
        ("approve", "sam", {"supervisor", "admin"}, (), "needs_role"),
        ("approve", "lee", {"legal"}, ("lee",), "approved_twice"),
        ("reject", "lee", {"legal"}, ("lee",), None),  # the first approver may still stop it
        ("approve", "kim", {"legal"}, ("lee",), None),
        ("escalate", "lee", {"legal"}, (), "unknown_decision"),
    ],
)
def test_decide(decision: str, user: str, roles: set[str], approved_by: tuple[str, ...], expected: str | None) -> None:
    assert code(rules.refuse_decision(TASK, decision, user, roles, approved_by)) == expected


def test_an_escalated_task_is_chased_by_the_supervisor_not_decided() -> None:
    escalated = rules.TaskView(7, "open", "legal", "x", None, escalated_to="supervisor")
    assert code(rules.refuse_claim(escalated, "sam", {"supervisor"})) is None
    assert code(rules.refuse_decision(escalated, "approve", "sam", {"supervisor"})) == "needs_role"


def test_a_refusal_reads_as_a_sentence() -> None:
    refused = rules.refusal("already", task=3, status="approved", by="kim")
    assert str(rules.Refused(refused)) == "task 3 was already approved by kim; nothing changed"
    assert rules.Refused(refused).refusal == refused
    assert rules.Refused("plain words").refusal is None


def test_only_the_allowed_litigation_steps_in_date_order() -> None:
    opened, today = date(2026, 4, 1), date(2026, 6, 1)
    path = ["approved", "letter_sent", "filed", "judgment", "enforcement", "settled"]
    for current, new in pairwise(path):
        assert litigation.refuse_step(current, new, opened, opened, today, 0) is None
    for current in path[:-1]:
        assert litigation.refuse_step(current, "withdrawn", opened, opened, today, 0) is None
    assert "cannot become filed" in str(litigation.refuse_step("approved", "filed", opened, opened, today, 0))
    assert "the case has ended" in str(litigation.refuse_step("settled", "filed", opened, opened, today, 0))
    assert "the case has ended" in str(litigation.refuse_step("withdrawn", "settled", opened, opened, today, 0))
    assert "before the previous step" in str(
        litigation.refuse_step("approved", "letter_sent", date(2026, 3, 31), opened, today, 0)
    )
    assert "in the future" in str(litigation.refuse_step("approved", "letter_sent", date(2026, 6, 2), opened, today, 0))
    assert "negative" in str(litigation.refuse_step("approved", "letter_sent", opened, opened, today, -1))
    assert "unknown state" in str(litigation.refuse_step("approved", "appeal", opened, opened, today, 0))


def test_two_approvers_from_the_configured_balance() -> None:
    rule = EscalationRule(name="r", when=Condition())
    escalation = Escalation(rules=(rule,), two_approvers_from=Amounts.model_validate({"USD": "10000.00"}))
    assert approvals_needed(escalation, 999_999, "USD") == 1
    assert approvals_needed(escalation, 1_000_000, "USD") == 2
    assert approvals_needed(escalation, 10_000_000, "CNY") == 1  # no threshold for that currency
    assert approvals_needed(Escalation(rules=(rule,)), 10**12, "USD") == 1


def test_every_task_kind_is_configured_with_its_role_and_sla(tmp_path: Path) -> None:
    config = load_configuration(PROJECT_ROOT / "configs")
    assert config.tasks.kind("legal_escalation").role == "legal"
    assert config.tasks.kind("inbound_message").role == "agent"
    assert len(config.tasks.kinds) == 8

    target = tmp_path / "configs"
    shutil.copytree(PROJECT_ROOT / "configs", target)
    path = target / "tasks.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("    role: legal\n", "    role: counsel\n", 1), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"tasks\.yaml: key 'kinds\.legal_escalation\.role'"):
        load_configuration(target)
    path.write_text(text.replace("  agent_call:", "  agent_calls:"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"tasks\.yaml: key 'kinds.*agent_calls"):
        load_configuration(target)
