"""`overdue templates lint` and `overdue templates preview`, as ops and CI run them."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from overdue.cli import app
from overdue.settings import PROJECT_ROOT, get_settings
from overdue.store.db import session_scope
from tests.support import add_account, pdf_fonts, pdf_text


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "1000"})


@pytest.fixture
def configs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of configs/ the test may break, in use for the test's commands."""
    folder = tmp_path / "configs"
    shutil.copytree(PROJECT_ROOT / "configs", folder)
    monkeypatch.setenv("OVERDUE_CONFIG_DIR", str(folder))
    get_settings.cache_clear()
    yield folder
    get_settings.cache_clear()


def test_lint_passes_on_the_shipped_templates() -> None:
    result = invoke("templates", "lint")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK: 44 templates in en-US, zh-CN pass 12 content rules")


def test_lint_names_file_line_rule_and_text_of_each_problem(configs: Path) -> None:
    sms = configs / "templates" / "zh-CN" / "reminder_early.sms.j2"
    sms.write_text(
        sms.read_text(encoding="utf-8").replace("{{ opt_out }}", "否则将报警处理。{{ opt_out }}"), encoding="utf-8"
    )
    email = configs / "templates" / "en-US" / "pre_due.email.j2"
    email.write_text(email.read_text(encoding="utf-8").replace("{{ opt_out }}", ""), encoding="utf-8")
    result = invoke("templates", "lint")
    assert result.exit_code == 1, result.output
    assert f"{sms}:1: no_arrest_or_criminal_claims: '报警' in the template" in result.output
    assert f"{email}: opt_out: does not state the opt-out instruction" in result.output
    assert "problems in the templates" in result.output


def test_lint_reports_a_broken_rules_file(configs: Path) -> None:
    rules = configs / "templates" / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace("'\\barrest'", "'(arrest'"), encoding="utf-8")
    result = invoke("templates", "lint")
    assert result.exit_code == 2, result.output
    assert "rules.yaml" in result.output
    assert "is not a regular expression" in result.output


def test_preview_shows_an_sms_and_its_segments() -> None:
    result = invoke("templates", "preview", "reminder_firm", "--channel", "sms", "--locale", "zh-CN")
    assert result.exit_code == 0, result.output
    assert "zh-CN/reminder_firm.sms.j2 · sample values, current debt" in result.output
    assert "张伟您好" in result.output
    assert "SMS: 2 segments (UCS-2," in result.output
    assert "within the strategy's maximum of 3" in result.output


def test_preview_of_a_time_barred_notice_carries_the_disclosure() -> None:
    result = invoke("templates", "preview", "validation_notice", "--channel", "email", "--time-barred")
    assert result.exit_code == 0, result.output
    assert "will not sue you for it" in result.output


def test_preview_writes_a_letter_as_pdf(tmp_path: Path) -> None:
    out = tmp_path / "letter.pdf"
    args = ("reminder_letter", "--channel", "letter", "--locale", "zh-CN", "--pdf", str(out))
    result = invoke("templates", "preview", *args)
    assert result.exit_code == 0, result.output
    assert f"PDF written to {out}" in result.output
    assert all(pdf_fonts(out.read_bytes()).values())
    assert "尊敬的张伟" in pdf_text(out.read_bytes())
    refused = invoke("templates", "preview", "offer", "--channel", "sms", "--pdf", str(out))
    assert refused.exit_code == 1
    assert "--pdf is for letters" in refused.output


def test_preview_for_a_real_account(sqlite_url: str, tmp_path: Path) -> None:
    with session_scope(sqlite_url) as session:
        account_id = add_account(session, "preview", due_date=date(2026, 2, 13)).id
    out = tmp_path / "real.pdf"
    args = ("--channel", "letter", "--account", str(account_id), "--database-url", sqlite_url)
    result = invoke("templates", "preview", "reminder_letter", *args, "--pdf", str(out))
    assert result.exit_code == 0, result.output
    assert f"en-US/reminder_letter.letter.j2 · account {account_id}" in result.output
    assert "Dear Test Person," in result.output
    text = pdf_text(out.read_bytes())
    assert "Test Person" in text
    assert "1 Main St" in text  # the account's own postal address
    no_offer = invoke("templates", "preview", "offer", *args)
    assert no_offer.exit_code == 1
    assert f"en-US/offer.letter.j2 cannot render for account {account_id}" in no_offer.output
    missing = invoke("templates", "preview", "reminder_letter", "--account", "999", "--database-url", sqlite_url)
    assert missing.exit_code == 1
    assert "no account 999" in missing.output
