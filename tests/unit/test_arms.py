"""Champion/challenger assignment: reproducible, in proportion, and validated as configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from overdue.config import ConfigError, load_configuration
from overdue.config.models import Challenger, Experiment
from overdue.domain.arms import assign_arm
from overdue.settings import PROJECT_ROOT

EXPERIMENT = Experiment(seed=7, challengers=(Challenger(strategy="early_offer", share=0.2),))


def test_the_same_account_always_lands_in_the_same_arm() -> None:
    arms = [assign_arm(f"A-{n}", "default", EXPERIMENT) for n in range(2000)]
    assert arms == [assign_arm(f"A-{n}", "default", EXPERIMENT) for n in range(2000)]
    assert set(arms) == {"default", "early_offer"}


def test_shares_hold_over_many_accounts_and_the_seed_reshuffles() -> None:
    arms = [assign_arm(f"A-{n}", "default", EXPERIMENT) for n in range(20_000)]
    assert arms.count("early_offer") / len(arms) == pytest.approx(0.2, abs=0.01)
    reseeded = EXPERIMENT.model_copy(update={"seed": 8})
    assert arms != [assign_arm(f"A-{n}", "default", reseeded) for n in range(20_000)]


def test_without_challengers_everyone_follows_the_champion() -> None:
    assert {assign_arm(f"A-{n}", "default", Experiment()) for n in range(500)} == {"default"}


def test_shares_must_leave_the_champion_something() -> None:
    with pytest.raises(ValueError, match="sum below 1"):
        Experiment(challengers=(Challenger(strategy="a", share=0.6), Challenger(strategy="b", share=0.4)))


def copy_configs(tmp_path: Path) -> Path:
    import shutil

    target = tmp_path / "configs"
    shutil.copytree(PROJECT_ROOT / "configs", target)
    return target


def test_a_challenger_must_name_a_strategy_file(tmp_path: Path) -> None:
    configs = copy_configs(tmp_path)
    path = configs / "experiment.yaml"
    path.write_text(path.read_text().replace("strategy: early_offer", "strategy: earlyoffer"))
    with pytest.raises(ConfigError, match=r"experiment\.yaml: key 'challengers\.0\.strategy': 'earlyoffer'"):
        load_configuration(configs)


def test_a_strategy_is_named_after_its_file(tmp_path: Path) -> None:
    configs = copy_configs(tmp_path)
    path = configs / "strategies" / "early_offer.yaml"
    path.write_text(path.read_text().replace("name: early_offer", "name: early"))
    with pytest.raises(ConfigError, match=r"early_offer\.yaml: key 'name'"):
        load_configuration(configs)


def test_every_shipped_strategy_loads_and_an_unknown_arm_is_an_error() -> None:
    config = load_configuration(PROJECT_ROOT / "configs")
    assert set(config.strategies) >= {"default", "early_offer"}
    assert config.strategy_for("early_offer").name == "early_offer"
    with pytest.raises(ConfigError, match="no strategy 'retired'"):
        config.strategy_for("retired")
