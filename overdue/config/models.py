"""Pydantic models for everything under configs/. Unknown keys are errors, not silently ignored."""

from __future__ import annotations

from datetime import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from overdue.domain.money import to_minor

Channel = Literal["sms", "email", "voice", "letter"]
CHANNELS: tuple[Channel, ...] = ("sms", "email", "voice", "letter")
FACT_STAGES = ("closed", "legal", "plan")  # decided by facts, never by conditions


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Amounts(Strict):
    """Major-unit amounts per currency in YAML, kept as minor units."""

    minor: dict[str, int]

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, value: object) -> object:
        if isinstance(value, dict) and "minor" not in value:
            return {"minor": {cur: to_minor(str(amount), cur) for cur, amount in value.items()}}
        return value

    def get(self, currency: str) -> int | None:
        return self.minor.get(currency)


class Condition(Strict):
    """Conditions AND together; an empty condition always matches."""

    dpd_min: int | None = None
    dpd_max: int | None = None
    balance_min: Amounts | None = None
    broken_plans_min: int | None = None
    stage_in: tuple[str, ...] | None = None


class StageRule(Strict):
    name: str
    when: Condition = Condition()

    @field_validator("name")
    @classmethod
    def _not_fact_stage(cls, name: str) -> str:
        if name in FACT_STAGES:
            raise ValueError(f"'{name}' is decided by facts and cannot have conditions")
        return name


class CadenceStep(Strict):
    id: str
    day: int
    channel: Channel
    template: str
    local_time: time = time(10, 0)


class EscalationRule(Strict):
    name: str
    when: Condition


class Escalation(Strict):
    role: str = "legal"
    sla_hours: int = Field(default=72, gt=0)
    review_cooldown_days: int = Field(default=30, ge=0)
    rules: tuple[EscalationRule, ...]


class Strategy(Strict):
    name: str
    description: str = ""
    stages: tuple[StageRule, ...]
    catch_up_days: int = Field(default=3, ge=0)
    cadence: dict[str, tuple[CadenceStep, ...]]
    escalation: Escalation

    @model_validator(mode="after")
    def _consistent(self) -> Strategy:
        names = [stage.name for stage in self.stages]
        known = set(names) | set(FACT_STAGES)
        for stage in self.cadence:
            if stage not in known:
                raise ValueError(f"cadence for unknown stage '{stage}' (stages: {sorted(known)})")
        for stage, steps in self.cadence.items():
            ids = [step.id for step in steps]
            if len(ids) != len(set(ids)):
                raise ValueError(f"cadence.{stage}: step ids must be unique")
            if [s.day for s in steps] != sorted(s.day for s in steps):
                raise ValueError(f"cadence.{stage}: steps must be in day order")
        return self


class ContactWindow(Strict):
    start: time
    end: time
    source: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> ContactWindow:
        if self.start >= self.end:
            raise ValueError("start must be before end")
        return self


class Policy(Strict):
    jurisdiction: str
    name: str
    holiday_country: str
    contact_window: ContactWindow
    allocation: tuple[Literal["fees", "interest", "principal"], ...] = ("fees", "interest", "principal")

    @field_validator("allocation")
    @classmethod
    def _complete(cls, order: tuple[str, ...]) -> tuple[str, ...]:
        if sorted(order) != ["fees", "interest", "principal"]:
            raise ValueError("must list fees, interest and principal once each")
        return order


class InstallmentBounds(Strict):
    min_months: int = Field(gt=0)
    max_months: int = Field(gt=0)
    min_installment: Amounts
    target_months: int = Field(gt=0)
    grace_days: int = Field(ge=0)
    expires_after_days: int = Field(gt=0)
    first_due_after_days: int = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> InstallmentBounds:
        if not self.min_months <= self.target_months <= self.max_months:
            raise ValueError("need min_months <= target_months <= max_months")
        return self


class InstallmentOffers(Strict):
    default: InstallmentBounds
    by_jurisdiction: dict[str, dict[str, object]] = {}

    def for_jurisdiction(self, jurisdiction: str) -> InstallmentBounds:
        override = self.by_jurisdiction.get(jurisdiction)
        if not override:
            return self.default
        return InstallmentBounds.model_validate(self.default.model_dump() | override)


class OfferBounds(Strict):
    installment: InstallmentOffers

    @model_validator(mode="after")
    def _overrides_valid(self) -> OfferBounds:
        for jurisdiction in self.installment.by_jurisdiction:
            self.installment.for_jurisdiction(jurisdiction)
        return self
