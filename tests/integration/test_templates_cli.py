"""`overdue templates lint`, as ops and CI run it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from overdue.cli import app
from overdue.settings import PROJECT_ROOT, get_settings


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
    assert result.output.startswith("OK: 40 templates in en-US, zh-CN pass 11 content rules")


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
