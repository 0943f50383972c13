"""A config error names the file, the key and the problem; secrets never come from configs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from overdue.config import ConfigError, load_configuration
from overdue.settings import PROJECT_ROOT, Settings


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    target = tmp_path / "configs"
    shutil.copytree(PROJECT_ROOT / "configs", target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_unknown_key_names_file_and_key(config_dir: Path) -> None:
    edit(config_dir / "strategies" / "default.yaml", "catch_up_days: 3", "catch_up_dayz: 3")
    with pytest.raises(ConfigError) as err:
        load_configuration(config_dir)
    assert "default.yaml" in str(err.value)
    assert "catch_up_dayz" in str(err.value)


def test_wrong_type_names_the_nested_key(config_dir: Path) -> None:
    edit(config_dir / "strategies" / "default.yaml", "dpd_min: 31", "dpd_min: soon")
    with pytest.raises(ConfigError, match=r"default\.yaml: key 'stages\.0\.when\.dpd_min'"):
        load_configuration(config_dir)


def test_bad_amount_names_the_currency(config_dir: Path) -> None:
    edit(config_dir / "offers.yaml", 'USD: "25.00"', 'USD: "25.001"')
    with pytest.raises(ConfigError, match=r"offers\.yaml: key 'defaults\.installment\.min_installment'.*more decimals"):
        load_configuration(config_dir)


def test_invalid_yaml_names_the_line(config_dir: Path) -> None:
    (config_dir / "offers.yaml").write_text("defaults:\n  installment: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"offers\.yaml: line \d+: invalid YAML"):
        load_configuration(config_dir)


def test_an_offer_override_names_its_place_and_key(config_dir: Path) -> None:
    edit(config_dir / "offers.yaml", "installment: {max_months: 60}", "installment: {max_months: 2}")
    with pytest.raises(ConfigError, match=r"offers\.yaml: .*overrides\.0\.set: installment: .*min_months <= target"):
        load_configuration(config_dir)


def test_contact_window_must_be_ordered(config_dir: Path) -> None:
    edit(config_dir / "policies" / "US.yaml", 'end: "21:00"', 'end: "07:00"')
    with pytest.raises(ConfigError, match=r"US\.yaml: key 'rules\.0\.contact_window'.*start must be before end"):
        load_configuration(config_dir)


def test_policy_file_name_must_match_jurisdiction(config_dir: Path) -> None:
    shutil.copy(config_dir / "policies" / "US.yaml", config_dir / "policies" / "UK.yaml")
    with pytest.raises(ConfigError, match=r"UK\.yaml: key 'jurisdiction'"):
        load_configuration(config_dir)


def test_cadence_for_an_unknown_stage_is_refused(config_dir: Path) -> None:
    edit(
        config_dir / "strategies" / "default.yaml",
        "  plan:\n    - {id: installment_due_sms",
        "  planz:\n    - {id: installment_due_sms",
    )
    with pytest.raises(ConfigError, match="unknown stage 'planz'"):
        load_configuration(config_dir)


def test_missing_strategy_file(config_dir: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.yaml: file not found"):
        load_configuration(config_dir, "nope")


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVERDUE_DATABASE_URL", "postgresql://collector@db.internal/overdue")
    monkeypatch.setenv("OVERDUE_SHARD_SIZE", "250")
    settings = Settings()
    assert settings.effective_database_url == "postgresql+psycopg://collector@db.internal/overdue"
    assert settings.shard_size == 250


def test_default_database_is_a_local_sqlite_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OVERDUE_DATABASE_URL", raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.effective_database_url.startswith("sqlite:///")
    assert settings.effective_database_url.endswith("var/overdue.db")


def test_rule_ids_are_unique_and_carry_the_jurisdiction(config_dir: Path) -> None:
    edit(config_dir / "policies" / "US.yaml", "id: us.opt_out", "id: us.call_frequency")
    with pytest.raises(ConfigError, match=r"US\.yaml: .*rule ids must be unique: us\.call_frequency"):
        load_configuration(config_dir)


def test_a_rule_of_an_unknown_kind_is_refused(config_dir: Path) -> None:
    edit(config_dir / "policies" / "US.yaml", "kind: workplace", "kind: workplace_visit")
    with pytest.raises(ConfigError, match=r"US\.yaml: key 'rules\.8'.*does not match any of the expected tags"):
        load_configuration(config_dir)


def test_every_shipped_rule_names_its_source() -> None:
    config = load_configuration(PROJECT_ROOT / "configs")
    assert set(config.policies) == {"US", "CN", "UK"}
    for policy in config.policies.values():
        assert all(rule.source and rule.description for rule in policy.rules)
