"""Load and validate configs/. Every error names the file, the key and the problem."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from overdue.config.models import Experiment, Policy, Strategy, Tasks
from overdue.config.offer_policy import OfferBounds

M = TypeVar("M", bound=BaseModel)


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Configuration:
    strategy: Strategy  # the champion: new accounts follow it unless the experiment says otherwise
    policies: dict[str, Policy]
    offers: OfferBounds
    templates_dir: Path
    tasks: Tasks  # configs/tasks.yaml: who decides each kind of human task, and its SLA
    strategies: dict[str, Strategy] = field(default_factory=dict)  # every file under configs/strategies
    experiment: Experiment = field(default_factory=Experiment)

    @property
    def legal_dir(self) -> Path:
        """The demand letters (configs/legal/<locale>/demand_letter.letter.j2): legal documents, not cadence
        messages, so the outreach template rules do not apply to them."""
        return self.templates_dir.parent / "legal"

    def strategy_for(self, arm: str) -> Strategy:
        """The strategy an account's recorded arm names; an arm whose file is gone is an error, not a default."""
        try:
            return self.strategies[arm]
        except KeyError:
            raise ConfigError(f"no strategy '{arm}' in configs/strategies (an account is assigned to it)") from None

    def policy(self, jurisdiction: str) -> Policy:
        try:
            return self.policies[jurisdiction]
        except KeyError:
            raise ConfigError(f"no policy for jurisdiction '{jurisdiction}' in configs/policies") from None


def load_model(path: Path, model: type[M]) -> M:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}:{where}: invalid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"key '{_key(err['loc'])}': {err['msg']}" for err in exc.errors())
        raise ConfigError(f"{path}: {problems}") from None


def _key(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc if part not in ("minor",)) or "(top level)"


def load_configuration(config_dir: Path, strategy: str = "default") -> Configuration:
    policies: dict[str, Policy] = {}
    for path in sorted((config_dir / "policies").glob("*.yaml")):
        policy = load_model(path, Policy)
        if policy.jurisdiction != path.stem:
            raise ConfigError(f"{path}: key 'jurisdiction': '{policy.jurisdiction}' must match the file name")
        policies[policy.jurisdiction] = policy
    if not policies:
        raise ConfigError(f"{config_dir / 'policies'}: no policy files")
    strategies: dict[str, Strategy] = {}
    for path in sorted((config_dir / "strategies").glob("*.yaml")):
        loaded = load_model(path, Strategy)
        if loaded.name != path.stem:
            raise ConfigError(f"{path}: key 'name': '{loaded.name}' must match the file name")
        strategies[loaded.name] = loaded
    if strategy not in strategies:
        raise ConfigError(f"{config_dir / 'strategies' / f'{strategy}.yaml'}: file not found (the champion strategy)")
    experiment_path = config_dir / "experiment.yaml"
    experiment = load_model(experiment_path, Experiment) if experiment_path.exists() else Experiment()
    for index, challenger in enumerate(experiment.challengers):
        if challenger.strategy not in strategies or challenger.strategy == strategy:
            raise ConfigError(
                f"{experiment_path}: key 'challengers.{index}.strategy': '{challenger.strategy}' must name a "
                f"strategy file other than the champion '{strategy}' (have: {', '.join(strategies)})"
            )
    return Configuration(
        strategy=strategies[strategy],
        policies=policies,
        offers=load_model(config_dir / "offers.yaml", OfferBounds),
        tasks=load_model(config_dir / "tasks.yaml", Tasks),
        templates_dir=config_dir / "templates",
        strategies=strategies,
        experiment=experiment,
    )
