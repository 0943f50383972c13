"""Pydantic models for everything under configs/. Unknown keys are errors, not silently ignored."""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from functools import cached_property
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from overdue.domain.flags import FLAGS
from overdue.domain.money import to_minor

Channel = Literal["sms", "email", "voice", "letter"]
CHANNELS: tuple[Channel, ...] = ("sms", "email", "voice", "letter")
FACT_STAGES = ("closed", "legal", "plan")  # decided by facts, never by conditions
CURRENT = "current"  # where an account no stage's conditions match belongs


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
    """Conditions AND together; an empty condition always matches. Bounds are inclusive. `flags`: every one
    must be set; `not_flags`: none may be (overdue/domain/flags.py lists them)."""

    dpd_min: int | None = None
    dpd_max: int | None = None
    balance_min: Amounts | None = None
    balance_max: Amounts | None = None
    broken_plans_min: int | None = Field(default=None, ge=0)
    broken_plans_max: int | None = Field(default=None, ge=0)
    stage_in: tuple[str, ...] | None = None
    flags: tuple[str, ...] = ()
    not_flags: tuple[str, ...] = ()

    @field_validator("flags", "not_flags")
    @classmethod
    def _known_flags(cls, flags: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [flag for flag in flags if flag not in FLAGS]
        if unknown:
            raise ValueError(f"unknown flag(s) {', '.join(unknown)} (one of {', '.join(FLAGS)})")
        if len(set(flags)) != len(flags):
            raise ValueError("a flag may be listed once")
        return flags

    @model_validator(mode="after")
    def _satisfiable(self) -> Condition:
        """A condition no account can meet is a typo, not a strategy: refuse it at load."""
        if self.dpd_min is not None and self.dpd_max is not None and self.dpd_min > self.dpd_max:
            raise ValueError(f"dpd_min {self.dpd_min} is above dpd_max {self.dpd_max}")
        low, high = self.broken_plans_min, self.broken_plans_max
        if low is not None and high is not None and low > high:
            raise ValueError(f"broken_plans_min {low} is above broken_plans_max {high}")
        if self.balance_min is not None and self.balance_max is not None:
            for currency, minimum in self.balance_min.minor.items():
                maximum = self.balance_max.get(currency)
                if maximum is not None and minimum > maximum:
                    raise ValueError(f"balance_min is above balance_max for {currency}")
        both = sorted(set(self.flags) & set(self.not_flags))
        if both:
            raise ValueError(f"{', '.join(both)} in both flags and not_flags")
        return self

    @property
    def flags_used(self) -> frozenset[str]:
        return frozenset(self.flags) | frozenset(self.not_flags)


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
    """Which accounts go to a person for legal approval. Who decides and how fast is configs/tasks.yaml."""

    review_cooldown_days: int = Field(default=30, ge=0)
    vulnerable_reviewed_first: bool = Field(
        default=True, description="A vulnerable customer's account is proposed only after a specialist review"
    )
    two_approvers_from: Amounts | None = Field(
        default=None, description="From this balance (per currency) two different people must approve"
    )
    demand_letter_days: int = Field(default=15, gt=0, description="Days the demand letter gives to pay")
    rules: tuple[EscalationRule, ...]


class Strategy(Strict):
    name: str
    description: str = ""
    stages: tuple[StageRule, ...]
    catch_up_days: int = Field(default=3, ge=0)
    sms_max_segments: int = Field(
        default=3, ge=1, le=10, description="An SMS that renders longer is not sent (overdue/domain/sms.py)"
    )
    cadence: dict[str, tuple[CadenceStep, ...]]
    escalation: Escalation

    @property  # not cached: model_copy(update=...) would carry a stale value over
    def flags_used(self) -> frozenset[str]:
        """The flags any stage or escalation condition tests: the cycle loads only these (usually none)."""
        conditions = [stage.when for stage in self.stages] + [rule.when for rule in self.escalation.rules]
        return frozenset().union(*(condition.flags_used for condition in conditions))

    @model_validator(mode="after")
    def _consistent(self) -> Strategy:
        names = [stage.name for stage in self.stages]
        known = set(names) | set(FACT_STAGES) | {CURRENT}
        conditions = [(f"stages.{n}.when", stage.when) for n, stage in enumerate(self.stages)]
        conditions += [(f"escalation.rules.{n}.when", rule.when) for n, rule in enumerate(self.escalation.rules)]
        for key, condition in conditions:
            unknown = sorted(set(condition.stage_in or ()) - known)
            if unknown:
                raise ValueError(f"{key}.stage_in: unknown stage(s) {', '.join(unknown)} (stages: {sorted(known)})")
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

    @model_validator(mode="after")
    def _ordered(self) -> ContactWindow:
        if self.start >= self.end:
            raise ValueError("start must be before end")
        return self


class Rule(Strict):
    """Every rule names itself, says what it does and where it comes from."""

    id: str = Field(pattern=r"^[a-z]{2}\.[a-z0-9_]+$")
    description: str = Field(min_length=1)
    source: str = Field(min_length=1)


class WindowRule(Rule, ContactWindow):
    """No contact outside [start, end) in the customer's local time, on the listed channels."""

    kind: Literal["contact_window"]
    channels: tuple[Channel, ...] = ("sms", "email", "voice")
    latest_end: time | None = Field(default=None, description="A legal ceiling the configured end may not pass")

    @model_validator(mode="after")
    def _within_ceiling(self) -> WindowRule:
        if self.latest_end is not None and self.end > self.latest_end:
            raise ValueError(f"end {self.end} is later than the legal ceiling {self.latest_end}")
        return self


class FrequencyRule(Rule):
    """At most `max_attempts` on `channel` within `days` consecutive local days, per account or per customer."""

    kind: Literal["frequency"]
    channel: Channel
    max_attempts: int = Field(gt=0)
    days: int = Field(gt=0)
    scope: Literal["account", "customer"]


class ConversationCooloffRule(Rule):
    """No attempt on `channel` within `days` after a conversation about the debt (its day counts as day 1)."""

    kind: Literal["conversation_cooloff"]
    channel: Channel = "voice"
    days: int = Field(gt=0)


class Cap(Strict):
    per_day: int | None = Field(default=None, gt=0)
    per_week: int | None = Field(default=None, gt=0)


class ChannelCapsRule(Rule):
    """Per-customer caps per channel and local day / rolling week, across all the customer's accounts."""

    kind: Literal["channel_caps"]
    caps: dict[Channel, Cap]


class OptOutRule(Rule):
    kind: Literal["opt_out"]


class AutomatedConsentRule(Rule):
    """Automated calls and texts need the customer's prior consent on that channel."""

    kind: Literal["automated_consent"]
    channels: tuple[Channel, ...] = ("sms", "voice")


class HoldRule(Rule):
    """Collection and plan contact stop while a hold of one of these kinds is active."""

    kind: Literal["hold"]
    hold_kinds: tuple[str, ...] = Field(min_length=1)


class WorkplaceRule(Rule):
    kind: Literal["workplace"]


class VulnerabilityRule(Rule):
    """A vulnerable customer gets at most `allowed_contacts` collection contacts before a specialist review."""

    kind: Literal["vulnerability_review"]
    allowed_contacts: int = Field(default=1, ge=0)


class ValidationNoticeRule(Rule):
    """The debt's validation notice goes out in writing before, or within `within_days` of, the first
    collection contact; without it, no further collection contact. The validation period ends
    `period_days` after receipt, presumed `receipt_business_days` business days after sending."""

    kind: Literal["validation_notice"]
    within_days: int = Field(default=5, ge=0)
    receipt_business_days: int = Field(default=5, ge=0)
    period_days: int = Field(default=30, gt=0)
    channels: tuple[Channel, ...] = Field(default=("letter", "email"), min_length=1, description="In preference order")


class ThirdPartyRule(Rule):
    """Collection contact goes only to the debtor (or a guarantor). Anyone else may be contacted only to
    locate a debtor who cannot be reached, at most once per `locate_every_days`, and is told nothing
    about the debt (the `locate` templates name no debt)."""

    kind: Literal["third_party"]
    locate_when_unreachable: bool = True
    locate_every_days: int = Field(default=7, gt=0)


class PlanKeptRule(Rule):
    """While a signed plan is being kept, collection contact stops (plan reminders continue)."""

    kind: Literal["plan_kept"]


ContactRule = Annotated[
    WindowRule
    | FrequencyRule
    | ConversationCooloffRule
    | ChannelCapsRule
    | OptOutRule
    | AutomatedConsentRule
    | HoldRule
    | WorkplaceRule
    | VulnerabilityRule
    | ValidationNoticeRule
    | ThirdPartyRule
    | PlanKeptRule,
    Field(discriminator="kind"),
]


class TimeBarRule(Rule):
    """A debt older than the limitation period is never threatened with, or escalated to, legal action."""

    years: int = Field(gt=0)


Component = Literal["fees", "interest", "principal"]
COMPONENTS: tuple[Component, ...] = ("fees", "interest", "principal")


class AllocationRule(Strict):
    """The order a payment pays the components in, for the listed products (all when absent) while the account
    is within the DPD range on the day the money arrives. A policy's rules are tried in order, first match wins."""

    products: tuple[str, ...] | None = None
    dpd_min: int | None = None
    dpd_max: int | None = None
    order: tuple[Component, ...]

    @field_validator("order")
    @classmethod
    def _complete(cls, order: tuple[str, ...]) -> tuple[str, ...]:
        if sorted(order) != sorted(COMPONENTS):
            raise ValueError("must list fees, interest and principal once each")
        return order

    def applies(self, product: str, dpd: int) -> bool:
        return (
            (self.products is None or product in self.products)
            and (self.dpd_min is None or dpd >= self.dpd_min)
            and (self.dpd_max is None or dpd <= self.dpd_max)
        )


class AccrualTerms(Strict):
    """What a delinquent account accrues each day past due, for the listed products (all when absent).

    Interest is simple, on principal only (never on interest or fees), `interest_rate_annual` / 365 a day,
    rounded down each day (in the customer's favour). A late fee is charged on day 1 past due and every
    `late_fee_every_days` after. The caps bound the balance of each component: interest at
    `interest_cap_share` of the principal outstanding, fees at `fees_cap`; accrual stops at a cap and never
    lowers a balance already above it."""

    products: tuple[str, ...] | None = None
    interest_rate_annual: Decimal = Field(default=Decimal(0), ge=0, le=5)
    interest_cap_share: Decimal | None = Field(default=None, ge=0, le=5)
    late_fee: Amounts | None = None
    late_fee_every_days: int = Field(default=30, gt=0)
    fees_cap: Amounts | None = None

    @property
    def rate_ppm(self) -> int:
        """The annual rate in millionths: SQL does the daily arithmetic in integers."""
        return int(self.interest_rate_annual * 1_000_000)

    @property
    def cap_ppm(self) -> int | None:
        return None if self.interest_cap_share is None else int(self.interest_cap_share * 1_000_000)

    def applies(self, product: str) -> bool:
        return self.products is None or product in self.products


class Accrual(Strict):
    """Accrual while delinquent: the terms per product (first match wins; none matching accrues nothing), and
    what freezes it: an active hold of one of `frozen_by_holds`, or an active plan or promise whose own terms
    (its `interest`, its `fees`: frozen or waived, as the accepted offer said) stop it."""

    terms: tuple[AccrualTerms, ...] = ()
    frozen_by_holds: tuple[str, ...] = ("hardship", "breathing_space")

    def terms_for(self, product: str) -> AccrualTerms | None:
        return next((terms for terms in self.terms if terms.applies(product)), None)


class Policy(Strict):
    jurisdiction: str
    name: str
    holiday_country: str
    allocation: tuple[AllocationRule, ...] = (AllocationRule(order=COMPONENTS),)
    accrual: Accrual = Accrual()
    time_bar: TimeBarRule
    rules: tuple[ContactRule, ...]

    @field_validator("allocation", mode="before")
    @classmethod
    def _one_order_for_all(cls, value: object) -> object:
        """`allocation: [fees, interest, principal]` is one rule for every product and DPD."""
        if isinstance(value, list | tuple) and value and all(isinstance(item, str) for item in value):
            return [{"order": value}]
        return value

    @field_validator("allocation")
    @classmethod
    def _has_fallback(cls, rules: tuple[AllocationRule, ...]) -> tuple[AllocationRule, ...]:
        last = rules[-1] if rules else None
        if last is None or (last.products, last.dpd_min, last.dpd_max) != (None, None, None):
            raise ValueError("the last rule must have no products or DPD bounds: it is the order when none matches")
        return rules

    def allocation_order(self, product: str, dpd: int) -> tuple[Component, ...]:
        return next(rule.order for rule in self.allocation if rule.applies(product, dpd))

    @model_validator(mode="after")
    def _rules_consistent(self) -> Policy:
        ids = [rule.id for rule in self.rules] + [self.time_bar.id]
        duplicates = sorted({rule_id for rule_id in ids if ids.count(rule_id) > 1})
        if duplicates:
            raise ValueError(f"rule ids must be unique: {', '.join(duplicates)}")
        prefix = self.jurisdiction.lower() + "."
        foreign = [rule_id for rule_id in ids if not rule_id.startswith(prefix)]
        if foreign:
            raise ValueError(f"rule ids must start with '{prefix}': {', '.join(foreign)}")
        kinds = [rule.kind for rule in self.rules]
        if kinds.count("contact_window") != 1:
            raise ValueError("exactly one contact_window rule is required")
        for kind in ("validation_notice", "third_party"):
            if kinds.count(kind) > 1:
                raise ValueError(f"at most one {kind} rule is allowed")
        return self

    def needs_review(self, blocked_by: tuple[str, ...]) -> bool:
        """True when a vulnerability rule is among the rules that stopped a contact."""
        return any(isinstance(rule, VulnerabilityRule) and rule.id in blocked_by for rule in self.rules)

    @cached_property
    def contact_window(self) -> WindowRule:
        return next(rule for rule in self.rules if isinstance(rule, WindowRule))

    @cached_property
    def third_party(self) -> ThirdPartyRule | None:
        return next((rule for rule in self.rules if isinstance(rule, ThirdPartyRule)), None)

    @cached_property
    def validation_notice(self) -> ValidationNoticeRule | None:
        return next((rule for rule in self.rules if isinstance(rule, ValidationNoticeRule)), None)


class Challenger(Strict):
    strategy: str
    share: float = Field(gt=0, lt=1)


class Experiment(Strict):
    """Champion/challenger: a share of new accounts follows each challenger strategy, the champion the rest.
    Assignment hashes (seed, account reference), so it is reproducible, and it is recorded on the account."""

    seed: int = 0
    challengers: tuple[Challenger, ...] = ()
    channel_costs: dict[str, float] = Field(
        default_factory=dict, description="Cost of one contact per channel (USD), for cost-to-collect per arm"
    )

    @field_validator("channel_costs")
    @classmethod
    def _known_channels(cls, costs: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(costs) - set(CHANNELS))
        if unknown:
            raise ValueError(f"unknown channel(s) {', '.join(unknown)} (one of {', '.join(CHANNELS)})")
        return costs

    @model_validator(mode="after")
    def _shares(self) -> Experiment:
        names = [c.strategy for c in self.challengers]
        if len(names) != len(set(names)):
            raise ValueError("each challenger strategy may appear once")
        if sum(c.share for c in self.challengers) >= 1:
            raise ValueError("challenger shares must leave the champion a share (sum below 1)")
        return self


ROLES = ("agent", "supervisor", "legal", "manager", "engineer", "admin")
Role = Literal["agent", "supervisor", "legal", "manager", "engineer", "admin"]
TaskKindName = Literal[
    "legal_escalation",
    "offer_approval",
    "dispute_review",
    "hardship_review",
    "vulnerability_review",
    "complaint",
    "inbound_message",
    "agent_call",
]


class TaskKind(Strict):
    """Who may decide a kind of human task and how long it may wait before it escalates."""

    role: Role
    sla_hours: int = Field(gt=0)
    description: str = ""


class Tasks(Strict):
    """configs/tasks.yaml: every kind of human task must be configured; a breached SLA goes to `escalate_to`."""

    escalate_to: Role = "supervisor"
    sweep_every_minutes: int = Field(default=15, gt=0)
    hardship_forbearance_days: int = Field(
        default=60, gt=0, description="How long the hardship hold runs from an approved hardship review"
    )
    kinds: dict[TaskKindName, TaskKind]

    @field_validator("kinds")
    @classmethod
    def _every_kind(cls, kinds: dict[str, TaskKind]) -> dict[str, TaskKind]:
        missing = sorted(set(TaskKindName.__args__) - set(kinds))  # type: ignore[attr-defined]
        if missing:
            raise ValueError(f"missing task kind(s): {', '.join(missing)}")
        return kinds

    def kind(self, name: str) -> TaskKind:
        try:
            return self.kinds[name]  # type: ignore[index]
        except KeyError:
            raise ValueError(f"unknown task kind '{name}' (configs/tasks.yaml)") from None
