"""The command line as ops use it, through Typer's runner against a SQLite database."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import typer.core
import typer.main
from sqlmodel import SQLModel, select
from typer.testing import CliRunner, Result

from overdue.cli import app
from overdue.store.db import session_scope
from overdue.store.migrate import head_revision
from overdue.store.tables import Account, AuditEvent, Installment, LegalCase, Offer, OutreachMessage, PaymentPlan
from tests.support import add_account, add_escalation_task, queue_message

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def invoke(*args: str) -> Result:
    """A wide console, so rich does not wrap a long file path in the middle of an assertion."""
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "1000"})


def row_counts(url: str) -> dict[str, int]:
    with session_scope(url) as session:
        return {
            table.name: session.scalar(sa.select(sa.func.count()).select_from(table)) or 0
            for table in SQLModel.metadata.sorted_tables
        }


def command_paths(command: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command and group, walked from the app itself so a new command cannot miss its --help test."""
    paths = [prefix]
    if isinstance(command, typer.core.TyperGroup):
        for name, sub in sorted(command.commands.items()):
            paths += command_paths(sub, (*prefix, name))
    return paths


def test_db_upgrade_and_current_from_an_empty_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert "empty database" in invoke("db", "current", "--database-url", url).output
    upgraded = invoke("db", "upgrade", "--database-url", url)
    assert upgraded.exit_code == 0, upgraded.output
    assert "is at head" in upgraded.output
    current = invoke("db", "current", "--database-url", url)
    assert current.exit_code == 0, current.output
    assert current.output.strip() == head_revision()


def test_db_upgrade_is_a_no_op_on_a_current_database(sqlite_url: str) -> None:
    upgraded = invoke("db", "upgrade", "--database-url", sqlite_url)
    assert upgraded.exit_code == 0, upgraded.output
    assert invoke("db", "current", "--database-url", sqlite_url).output.strip() == head_revision()


def test_config_check_passes_on_the_shipped_configs() -> None:
    result = invoke("config", "check")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK: champion strategy 'default' (challengers: early_offer 20%)")


@pytest.mark.parametrize(
    "path", command_paths(typer.main.get_command(app)), ids=lambda path: " ".join(path) or "overdue"
)
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    result = invoke(*path, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_import_accounts_good_and_bad_files(sqlite_url: str, tmp_path: Path) -> None:
    good = invoke("import", "accounts", str(EXAMPLES / "accounts.csv"), "--database-url", sqlite_url)
    assert good.exit_code == 0, good.output
    assert "Imported 6 accounts; 0 were already present." in good.output

    before = row_counts(sqlite_url)
    bad = tmp_path / "bad.csv"
    lines = (EXAMPLES / "accounts.csv").read_text(encoding="utf-8").splitlines()
    bad.write_text(
        "\n".join([lines[0], lines[1].replace("A-US-1001", "A-US-7001"), lines[2].replace(",USD,", ",US$,")])
    )
    rejected = invoke("import", "accounts", str(bad), "--database-url", sqlite_url)
    assert rejected.exit_code == 1, rejected.output
    assert f"{bad}: 1 problem(s); nothing was imported." in rejected.output
    assert f"{bad}:3: field 'currency': 'US$' is not an ISO 4217 currency code" in rejected.output
    assert row_counts(sqlite_url) == before


def test_import_payments_then_again(sqlite_url: str) -> None:
    invoke("import", "accounts", str(EXAMPLES / "accounts.csv"), "--database-url", sqlite_url)
    first = invoke("import", "payments", str(EXAMPLES / "payments.csv"), "--database-url", sqlite_url)
    assert first.exit_code == 0, first.output
    assert "Recorded 3 payments; 0 were already recorded." in first.output
    again = invoke("import", "payments", str(EXAMPLES / "payments.csv"), "--database-url", sqlite_url)
    assert again.exit_code == 0, again.output
    assert "Recorded 0 payments; 3 were already recorded." in again.output


@pytest.mark.parametrize("group", ["tasks", "outbox"])
def test_lists_run_on_an_empty_database(sqlite_url: str, group: str) -> None:
    result = invoke(group, "list", "--database-url", sqlite_url)
    assert result.exit_code == 0, result.output
    assert "status" in result.output


def test_tasks_decide_approves_an_escalation_exactly_once(sqlite_url: str) -> None:
    now = datetime.now(UTC)
    with session_scope(sqlite_url) as session:
        account = add_account(session, "legal", due_date=now.date() - timedelta(days=120))
        task = add_escalation_task(session, account, created_at=now)
        task_id, account_id = task.id, account.id
    decide = (
        "tasks",
        "decide",
        str(task_id),
        "--approve",
        "--reason",
        "Balance verified",
        "--as",
        "ops.test",
        "--role",
        "legal",
    )

    approved = invoke(*decide, "--database-url", sqlite_url)
    assert approved.exit_code == 0, approved.output
    assert f"Task {task_id} approved by ops.test." in approved.output
    with session_scope(sqlite_url) as session:
        assert session.get(Account, account_id).stage == "legal"  # type: ignore[union-attr]
        [case] = session.exec(select(LegalCase).where(LegalCase.account_id == account_id))
        assert (case.task_id, case.approved_by) == (task_id, "ops.test")

    again = invoke(*decide, "--database-url", sqlite_url)
    assert again.exit_code != 0
    assert "already approved" in again.output


def test_offers_accept_creates_the_plan(sqlite_url: str) -> None:
    today = datetime.now(UTC).date()
    with session_scope(sqlite_url) as session:
        account = add_account(session, "offer", due_date=today - timedelta(days=40))
        offer = Offer(
            account_id=account.id,  # type: ignore[arg-type]
            total_minor=107_500,
            installments=5,
            first_due_date=today + timedelta(days=7),
            created_on=today,
            expires_on=today + timedelta(days=14),
        )
        session.add(offer)
        session.flush()
        offer_id, account_id = offer.id, account.id

    listed = invoke("offers", "list", "--database-url", sqlite_url)
    assert listed.exit_code == 0, listed.output
    assert "$1,075.00" in listed.output
    accept = ("offers", "accept", str(offer_id), "--via", "phone", "--by", "agent.kim", "--database-url", sqlite_url)
    unrecorded = invoke(*accept)
    assert unrecorded.exit_code == 1
    assert "needs the reference of its call recording" in unrecorded.output
    result = invoke(*accept, "--recording", "REC-2026-11-0042")
    assert result.exit_code == 0, result.output
    assert f"Offer {offer_id} accepted" in result.output
    with session_scope(sqlite_url) as session:
        [plan] = session.exec(select(PaymentPlan).where(PaymentPlan.offer_id == offer_id))
        amounts = session.exec(select(Installment.amount_minor).where(Installment.plan_id == plan.id))
        assert sum(amounts) == plan.total_minor == 107_500
        assert session.get(Account, account_id).stage == "plan"  # type: ignore[union-attr]
        assert session.get(Offer, offer_id).status == "accepted"  # type: ignore[union-attr]


def test_an_agent_records_means_makes_an_offer_outside_bounds_and_two_people_approve_it(sqlite_url: str) -> None:
    today = datetime.now(UTC).date()
    with session_scope(sqlite_url) as session:
        account_id = add_account(session, "desk", due_date=today - timedelta(days=40)).id
    db = ("--database-url", sqlite_url)
    means = ("--income", "3200", "--expenses", "2100", "--dependants", "1", "--as", "agent.kim")
    recorded = invoke("affordability", "record", str(account_id), *means, *db)
    assert "capacity to pay $560.00 a month" in recorded.output, recorded.output
    made = invoke(
        "offers", "make", str(account_id), "--kind", "settlement", "--discount-pct", "45", "--as", "agent.kim", *db
    )
    assert "waits for 2 approver(s): discount 45% is above the 30% allowed" in made.output, made.output
    shown = json.loads(invoke("offers", "show", "1", "--json", *db).output)
    assert (shown["total_payable_minor"], shown["discount_minor"], shown["interest"]) == (59_125, 48_375, "waived")
    decide = ("tasks", "decide", "1", "--approve", "--reason", "evidence seen", "--role", "supervisor")
    assert "another person must decide" in invoke(*decide, "--as", "agent.kim", *db).output
    assert (
        "approval 1 recorded by lead.wu; a second person must approve" in invoke(*decide, "--as", "lead.wu", *db).output
    )
    assert "Task 1 approved by head.zhao" in invoke(*decide, "--as", "head.zhao", *db).output
    accepted = invoke("offers", "accept", "1", "--via", "in_person", "--by", "agent.kim", *db)
    assert accepted.exit_code == 0, accepted.output
    promised = invoke(
        "promises", "add", str(account_id), "--amount", "10", "--on", str(today), "--as", "agent.kim", *db
    )
    assert "already has an active settlement" in promised.output


def test_commands_on_an_unmigrated_database_say_how_to_fix_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    for args in (("outbox", "list"), ("tasks", "list"), ("import", "accounts", str(EXAMPLES / "accounts.csv"))):
        result = invoke(*args, "--database-url", url)
        assert result.exit_code == 2, result.output
        assert "run `overdue db upgrade` first" in result.output


def test_holds_stop_contact_and_are_listed(sqlite_url: str) -> None:
    with session_scope(sqlite_url) as session:
        account_id = add_account(session, "hold-cli", due_date=datetime.now(UTC).date()).id
    placed = invoke(
        "holds",
        "add",
        str(account_id),
        "--kind",
        "hardship",
        "--reason",
        "Lost job",
        "--as",
        "ops.bo",
        "--database-url",
        sqlite_url,
    )
    assert placed.exit_code == 0, placed.output
    listed = invoke("holds", "list", str(account_id), "--database-url", sqlite_url)
    assert "hardship" in listed.output
    assert "Lost job" in listed.output
    wrong = invoke(
        "holds",
        "add",
        str(account_id),
        "--kind",
        "holiday",
        "--reason",
        "x",
        "--as",
        "ops.bo",
        "--database-url",
        sqlite_url,
    )
    assert wrong.exit_code == 1
    assert "unknown hold kind" in wrong.output
    released = invoke(
        "holds", "release", "1", "--reason", "Back at work", "--as", "ops.bo", "--database-url", sqlite_url
    )
    assert released.exit_code == 0, released.output


def test_config_check_names_a_broken_template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from overdue.settings import PROJECT_ROOT, get_settings

    configs = tmp_path / "configs"
    shutil.copytree(PROJECT_ROOT / "configs", configs)
    template = configs / "templates" / "zh-CN" / "reminder_early.sms.j2"
    template.write_text(template.read_text(encoding="utf-8") + "{{ customer_nmae }}", encoding="utf-8")
    monkeypatch.setenv("OVERDUE_CONFIG_DIR", str(configs))
    get_settings.cache_clear()
    try:
        result = invoke("config", "check")
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2, result.output
    assert "zh-CN/reminder_early.sms.j2: 'customer_nmae' is undefined" in result.output


def test_disputes_are_opened_with_their_date_and_closed_by_verification(sqlite_url: str) -> None:
    with session_scope(sqlite_url) as session:
        account_id = add_account(session, "dispute-cli", due_date=datetime.now(UTC).date()).id
    as_hold = invoke(
        "holds",
        "add",
        str(account_id),
        "--kind",
        "dispute",
        "--reason",
        "x",
        "--as",
        "ops.bo",
        "--database-url",
        sqlite_url,
    )
    assert as_hold.exit_code == 1
    assert "overdue disputes open" in as_hold.output
    future = (datetime.now(UTC).date() + timedelta(days=2)).isoformat()
    args = ["disputes", "open", str(account_id), "--reason", "Not mine", "--as", "ops.bo", "--database-url", sqlite_url]
    refused = invoke(*args, "--received", future)
    assert refused.exit_code == 1
    assert "future" in refused.output
    opened = invoke(*args, "--oral")
    assert opened.exit_code == 0, opened.output
    assert "collection stops" in opened.output
    closed = invoke(
        "disputes", "verify", "1", "--note", "Statement matches", "--as", "ops.bo", "--database-url", sqlite_url
    )
    assert closed.exit_code == 0, closed.output
    assert "Verification letter" in closed.output
    with session_scope(sqlite_url) as session:
        kinds = list(session.exec(select(AuditEvent.kind).where(AuditEvent.account_id == account_id)))
    assert {"dispute.opened", "dispute.resolved", "hold.placed", "hold.released"} <= set(kinds)


def test_contacts_are_managed_and_listed_masked(sqlite_url: str) -> None:
    with session_scope(sqlite_url) as session:
        account_id = str(add_account(session, "contacts-cli", due_date=datetime.now(UTC).date()).id)
    db = ["--database-url", sqlite_url]
    added = invoke(
        "contacts", "add", account_id, "--channel", "sms", "--address", "+1 312 555 0147", "--party", "third_party",
        "--relation", "brother", "--as", "ops.bo", *db,
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    refused = invoke("contacts", "add", account_id, "--channel", "sms", "--address", "12", "--as", "ops.bo", *db)
    assert refused.exit_code == 1
    assert "not a valid phone number" in refused.output
    out = invoke("contacts", "opt-out", account_id, "--channel", "email", "--source", "letter", "--as", "ops.bo", *db)
    assert out.exit_code == 0, out.output
    consent = invoke(
        "contacts", "consent", account_id, "--channel", "sms", "--revoke", "--source", "call", "--as", "ops.bo", *db
    )
    assert consent.exit_code == 0, consent.output
    talk = invoke(
        "contacts", "conversation", account_id, "--channel", "voice", "--outcome", "hardship", "--as", "agent.kim", *db
    )
    assert talk.exit_code == 0, talk.output
    listed = invoke("contacts", "list", account_id, *db)
    assert "third_party (brother)" in listed.output
    assert "+13125550147" not in listed.output  # masked
    assert "+1***47" in listed.output


def test_strategy_check_names_the_file_and_key_of_each_problem(tmp_path: Path) -> None:
    good = invoke("strategy", "check", "configs/strategies/early_offer.yaml")
    assert "OK: strategy 'early_offer'" in good.output
    source = Path("configs/strategies/early_offer.yaml").read_text()
    typo = tmp_path / "typo.yaml"
    typo.write_text(source.replace("template: offer, local_time", "template: offre, local_time", 1))
    wide = {"COLUMNS": "400"}
    missing = CliRunner().invoke(app, ["strategy", "check", str(typo)], env=wide)
    assert missing.exit_code == 2
    assert "key 'cadence.negotiation': template offre.email is missing in en-US" in missing.output
    broken = tmp_path / "broken.yaml"
    broken.write_text(source.replace("dpd_min: 10}", "dpd_min: ten}"))
    invalid = CliRunner().invoke(app, ["strategy", "check", str(broken)], env=wide)
    assert invalid.exit_code == 2
    assert "broken.yaml: key 'stages.0.when.dpd_min'" in invalid.output


def test_outbox_dispatch_sends_everything_due_a_batch_at_a_time(sqlite_url: str) -> None:
    """Real time: the customers live where it is now noon, so the contact window is open."""
    now = datetime.now(UTC)
    zone = f"Etc/GMT{now.hour - 12:+d}" if now.hour != 12 else "UTC"  # Etc/GMT+3 is three hours behind UTC
    with session_scope(sqlite_url) as session:
        for n in range(3):
            account = add_account(session, f"D{n}", due_date=now.date() - timedelta(days=5), time_zone=zone)
            queue_message(session, account, "sms", send_at=now - timedelta(minutes=1))
    result = invoke("outbox", "dispatch", "--batch", "1", "--database-url", sqlite_url)
    assert result.exit_code == 0, result.output
    assert "sms dry-run" in result.output
    assert "'sent': 3" in result.output
    with session_scope(sqlite_url) as session:
        assert set(session.exec(select(OutreachMessage.status))) == {"sent"}
