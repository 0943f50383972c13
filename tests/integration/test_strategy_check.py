"""`overdue strategy check FILE` shows a condition's problem with the file and the key."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from overdue.cli import app


def test_strategy_check_reports_flag_and_range_problems(tmp_path: Path) -> None:
    source = Path("configs/strategies/default.yaml").read_text()
    checked = []
    for name, when in [("flags", "{dpd_min: 31, flags: [hardshp]}"), ("range", "{dpd_min: 31, dpd_max: 5}")]:
        path = tmp_path / f"{name}.yaml"
        path.write_text(source.replace("when: {dpd_min: 31}", f"when: {when}", 1))
        result = CliRunner().invoke(app, ["strategy", "check", str(path)], env={"COLUMNS": "400"})
        assert result.exit_code == 2
        checked.append(" ".join(result.output.split()))
    assert f"{tmp_path / 'flags.yaml'}: key 'stages.0.when.flags': Value error, unknown flag(s) hardshp" in checked[0]
    assert f"{tmp_path / 'range.yaml'}: key 'stages.0.when': Value error, dpd_min 31 is above dpd_max 5" in checked[1]
    good = tmp_path / "forbearance.yaml"
    forbearance = "  - name: forbearance\n    when: {flags: [hardship]}\n  - name: negotiation\n"
    good.write_text(source.replace("  - name: negotiation\n", forbearance, 1))
    result = CliRunner().invoke(app, ["strategy", "check", str(good)], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    assert "stages forbearance > negotiation > reminder > current" in result.output
