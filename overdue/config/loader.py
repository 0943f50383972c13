"""Load and validate configs/. Every error names the file, the key and the problem."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from overdue.config.models import OfferBounds, Policy, Strategy

M = TypeVar("M", bound=BaseModel)


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Configuration:
    strategy: Strategy
    policies: dict[str, Policy]
    offers: OfferBounds
    templates_dir: Path

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
    return Configuration(
        strategy=load_model(config_dir / "strategies" / f"{strategy}.yaml", Strategy),
        policies=policies,
        offers=load_model(config_dir / "offers.yaml", OfferBounds),
        templates_dir=config_dir / "templates",
    )
