"""configs/offers.yaml: what may be offered to whom, and when a person (or two) must approve it.

One full `defaults` block, then `overrides`, each scoped to a jurisdiction, a product or both; the more
specific scope wins (jurisdiction, then product, then both), key by key within each offer kind.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import Field, PrivateAttr, ValidationError, model_validator

from overdue.config.models import Amounts, Strict

Treatment = Literal["accrues", "frozen", "waived"]
OnKept = Literal["cure", "settle", "review"]
KINDS = ("installment", "interest_suspended", "settlement", "deferral", "due_date_change", "token")


class KindTerms(Strict):
    """Common to every kind: whether it may be offered, and what the plan does to interest and fees.
    `accrues`: charged as the contract says, on top of the plan; `frozen`: none added while the plan is
    kept; `waived`: what is left is written off when the plan is kept. `on_kept`: `cure` (closed when
    nothing is owed, else back to current), `settle` (the rest written off, closed), `review` (a new
    offer is made: a token payment buys time, it does not cure)."""

    enabled: bool = True
    interest: Treatment
    fees: Treatment
    on_kept: OnKept = "cure"


class InstallmentTerms(KindTerms):
    min_months: int = Field(gt=0)
    max_months: int = Field(gt=0)
    target_months: int = Field(gt=0, description="Offered first when neither the balance nor affordability says less")
    min_installment: Amounts
    requires_hardship: bool = Field(default=False, description="Without a hardship flag it needs approval")

    @model_validator(mode="after")
    def _ordered(self) -> InstallmentTerms:
        if not self.min_months <= self.target_months <= self.max_months:
            raise ValueError("need min_months <= target_months <= max_months")
        return self


class SettlementTerms(KindTerms):
    default_discount_pct: Decimal = Field(ge=0, lt=100)
    max_discount_pct: Decimal = Field(ge=0, lt=100, description="Beyond it the offer is outside the bounds")
    pay_within_days: int = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> SettlementTerms:
        if self.default_discount_pct > self.max_discount_pct:
            raise ValueError("default_discount_pct must not exceed max_discount_pct")
        return self


class DeferralTerms(KindTerms):
    default_days: int = Field(gt=0)
    max_days: int = Field(gt=0, description="The longest grace before the first payment")
    max_months: int = Field(gt=0, description="Monthly payments after the grace (1: one payment in full)")

    @model_validator(mode="after")
    def _ordered(self) -> DeferralTerms:
        if self.default_days > self.max_days:
            raise ValueError("default_days must not exceed max_days")
        return self


class DueDateChangeTerms(KindTerms):
    max_shift_days: int = Field(gt=0, description="How far from today the amount due may be moved")


class TokenTerms(KindTerms):
    amount: Amounts = Field(description="The nominal monthly payment")
    months: int = Field(gt=0, description="How long before the case is reviewed")


class Approvals(Strict):
    """Outside the bounds, or a settlement above the first thresholds: one approver. Any offer needing
    approval whose discount or balance is above the second thresholds: two different approvers."""

    role: str = "supervisor"  # one of the roles of configs/tasks.yaml
    sla_hours: int = Field(default=24, gt=0)
    settlement_discount_pct: Decimal = Field(ge=0, lt=100)
    settlement_balance: Amounts
    dual_discount_pct: Decimal = Field(ge=0, lt=100)
    dual_balance: Amounts

    @model_validator(mode="after")
    def _ordered(self) -> Approvals:
        if self.dual_discount_pct < self.settlement_discount_pct:
            raise ValueError("dual_discount_pct must not be below settlement_discount_pct")
        for currency, single in self.settlement_balance.minor.items():
            dual = self.dual_balance.get(currency)
            if dual is not None and dual < single:
                raise ValueError(f"dual_balance.{currency} must not be below settlement_balance.{currency}")
        return self


class Affordability(Strict):
    """capacity = (income - expenses - dependants x allowance_per_dependant) x disposable_share_pct / 100."""

    allowance_per_dependant: Amounts
    disposable_share_pct: Decimal = Field(gt=0, le=100)


class OfferPolicy(Strict):
    grace_days: int = Field(ge=0, description="Days after a due date before a payment counts as missed")
    expires_after_days: int = Field(gt=0)
    first_due_after_days: int = Field(ge=0)
    renegotiations: int = Field(ge=0, description="New plans allowed after a broken one; then legal review")
    promise_max_days: int = Field(gt=0, description="The furthest a promise to pay may be dated")
    promise_grace_days: int = Field(ge=0, description="Days after the promised date before a promise is broken")
    cure_due_after_days: int = Field(gt=0, description="A cured account's remaining balance falls due this late")
    affordability: Affordability
    approvals: Approvals
    installment: InstallmentTerms
    interest_suspended: InstallmentTerms
    settlement: SettlementTerms
    deferral: DeferralTerms
    due_date_change: DueDateChangeTerms
    token: TokenTerms

    def terms(self, kind: str) -> KindTerms:
        if kind not in KINDS:
            raise KeyError(f"unknown offer kind '{kind}' (one of {', '.join(KINDS)})")
        terms: KindTerms = getattr(self, kind)
        return terms


class Override(Strict):
    jurisdiction: str | None = None
    product: str | None = None
    set: dict[str, Any]

    @model_validator(mode="after")
    def _scoped(self) -> Override:
        if self.jurisdiction is None and self.product is None:
            raise ValueError("an override names a jurisdiction, a product or both")
        return self

    @property
    def specificity(self) -> int:
        return (self.jurisdiction is not None) + 2 * (self.product is not None)

    def applies(self, jurisdiction: str, product: str) -> bool:
        return self.jurisdiction in (None, jurisdiction) and self.product in (None, product)


class OfferBounds(Strict):
    defaults: OfferPolicy
    overrides: tuple[Override, ...] = ()
    _resolved: dict[tuple[str, str], OfferPolicy] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _overrides_valid(self) -> OfferBounds:
        for index, override in enumerate(self.overrides):
            try:
                _merged(self.defaults, [override])
            except ValidationError as exc:
                problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
                raise ValueError(f"overrides.{index}.set: {problems}") from None
        return self

    def policy(self, jurisdiction: str, product: str) -> OfferPolicy:
        """The defaults with every matching override applied, least specific first (cached per pair)."""
        key = (jurisdiction, product)
        if key not in self._resolved:
            matching = sorted((o for o in self.overrides if o.applies(*key)), key=lambda o: o.specificity)
            self._resolved[key] = _merged(self.defaults, matching) if matching else self.defaults
        return self._resolved[key]


def _merged(defaults: OfferPolicy, overrides: list[Override]) -> OfferPolicy:
    merged = defaults.model_dump()
    for override in overrides:
        for key, value in override.set.items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = merged[key] | value
            else:
                merged[key] = value
    return OfferPolicy.model_validate(merged)
