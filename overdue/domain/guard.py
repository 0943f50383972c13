"""The contact guard: every proposed contact passes through it, and a blocked one names its rules.

Pure and deterministic: (proposal, facts about the customer and account, contact history, policy)
in, a verdict out. It reads the clock only through `proposal.at`, and counts days in the customer's
local calendar, so a test can pin any instant, time zone and daylight-saving change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from overdue.config.models import (
    AutomatedConsentRule,
    ChannelCapsRule,
    ConversationCooloffRule,
    FrequencyRule,
    HoldRule,
    OptOutRule,
    PlanKeptRule,
    Policy,
    ThirdPartyRule,
    ValidationNoticeRule,
    VulnerabilityRule,
    WindowRule,
    WorkplaceRule,
)

COLLECTION, PLAN, VALIDATION, LOCATE = "collection", "plan", "validation", "locate"
DEBTOR, GUARANTOR, THIRD_PARTY = "debtor", "guarantor", "third_party"
NOTICE_PURPOSES = (VALIDATION, "verification", "optout_confirmation", "dispute_response")
PURSUING = (COLLECTION, LOCATE)  # trying to get paid, or to find the person who owes


@dataclass(frozen=True, slots=True)
class Attempt:
    """A contact already made (sent) to this customer, on any of their accounts."""

    at: datetime
    channel: str
    account_id: int
    purpose: str = COLLECTION


@dataclass(frozen=True, slots=True)
class Proposal:
    channel: str
    at: datetime
    purpose: str = COLLECTION
    automated: bool = True
    party: str = DEBTOR  # whose contact point: the debtor's, a guarantor's or a third party's


@dataclass(frozen=True)
class ContactFacts:
    """What the rules may look at. Built in bulk by the store side, one per account."""

    account_id: int
    time_zone: str
    holds: frozenset[str] = frozenset()
    opted_out: frozenset[str] = frozenset()
    consented: frozenset[str] = frozenset()
    workplace_address: bool = False
    workplace_contact_ok: bool = False
    vulnerable: bool = False
    vulnerability_reviewed: bool = False
    plan_active: bool = False
    collection_contacts: int = 0  # collection contacts ever sent on this account (not just the recent ones)
    attempts: tuple[Attempt, ...] = ()
    last_conversation_at: datetime | None = None  # the last telephone conversation about this debt
    debtor_reachable: bool = True  # the debtor has at least one usable contact point
    first_collection_at: datetime | None = None  # the debt's first collection or plan contact, ever
    validation_sent_at: datetime | None = None  # when the debt's validation notice went out


@dataclass(frozen=True)
class Verdict:
    blocked_by: tuple[str, ...] = field(default_factory=tuple)

    @property
    def allowed(self) -> bool:
        return not self.blocked_by


def check_contact(proposal: Proposal, facts: ContactFacts, policy: Policy) -> Verdict:
    """Every rule of the policy is evaluated (not just the first that blocks), so the record is complete."""
    local = _Local(ZoneInfo(facts.time_zone), proposal.at)
    blocked = tuple(rule.id for rule in policy.rules if _BLOCKS[type(rule)](rule, proposal, facts, local))
    return Verdict(blocked)


@dataclass(frozen=True)
class _Local:
    zone: ZoneInfo
    at: datetime

    @property
    def day(self) -> date:
        return self.at.astimezone(self.zone).date()

    def day_of(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()


def _count(attempts: Iterable[Attempt], local: _Local, first_day: date, channel: str | None = None) -> int:
    return sum(
        1
        for a in attempts
        if (channel is None or a.channel == channel)
        and first_day <= local.day_of(a.at) <= local.day
        and a.at <= local.at
    )


def _window(rule: WindowRule, p: Proposal, f: ContactFacts, local: _Local) -> bool:
    if p.channel not in rule.channels:
        return False
    clock = p.at.astimezone(local.zone).time()
    return not rule.start <= clock < rule.end


def _frequency(rule: FrequencyRule, p: Proposal, f: ContactFacts, local: _Local) -> bool:
    if p.channel != rule.channel or p.purpose in NOTICE_PURPOSES:
        return False
    attempts = f.attempts if rule.scope == "customer" else [a for a in f.attempts if a.account_id == f.account_id]
    return _count(attempts, local, local.day - timedelta(days=rule.days - 1), rule.channel) >= rule.max_attempts


def _conversation(rule: ConversationCooloffRule, p: Proposal, f: ContactFacts, local: _Local) -> bool:
    if p.channel != rule.channel or f.last_conversation_at is None or p.purpose in NOTICE_PURPOSES:
        return False
    return local.day <= local.day_of(f.last_conversation_at) + timedelta(days=rule.days - 1)


def _caps(rule: ChannelCapsRule, p: Proposal, f: ContactFacts, local: _Local) -> bool:
    cap = rule.caps.get(p.channel)  # type: ignore[call-overload]
    if cap is None or p.purpose in NOTICE_PURPOSES:
        return False
    if cap.per_day is not None and _count(f.attempts, local, local.day, p.channel) >= cap.per_day:
        return True
    week_start = local.day - timedelta(days=6)
    return cap.per_week is not None and _count(f.attempts, local, week_start, p.channel) >= cap.per_week


def _opt_out(rule: OptOutRule, p: Proposal, f: ContactFacts, local: _Local) -> bool:
    return p.channel in f.opted_out and p.purpose != "optout_confirmation"


def _consent(rule: AutomatedConsentRule, p: Proposal, f: ContactFacts, local: _Local) -> bool:
    return p.automated and p.channel in rule.channels and p.channel not in f.consented


def _hold(rule: HoldRule, p: Proposal, f: ContactFacts, local: _Local) -> bool:
    return p.purpose in (*PURSUING, PLAN) and bool(f.holds & set(rule.hold_kinds))


def _workplace(rule: WorkplaceRule, p: Proposal, f: ContactFacts, local: _Local) -> bool:
    return f.workplace_address and not f.workplace_contact_ok


def _vulnerability(rule: VulnerabilityRule, p: Proposal, f: ContactFacts, local: _Local) -> bool:
    if not f.vulnerable or f.vulnerability_reviewed or p.purpose not in PURSUING:
        return False
    return f.collection_contacts >= rule.allowed_contacts


def _validation(rule: ValidationNoticeRule, p: Proposal, f: ContactFacts, local: _Local) -> bool:
    """The first collection contact may precede the notice; once `within_days` pass without it, none may."""
    if p.purpose not in (COLLECTION, PLAN):
        return False
    if f.validation_sent_at is not None and f.validation_sent_at <= p.at:
        return False
    if f.first_collection_at is None or f.first_collection_at > p.at:
        return False
    return local.day > local.day_of(f.first_collection_at) + timedelta(days=rule.within_days)


def _third_party(rule: ThirdPartyRule, p: Proposal, f: ContactFacts, local: _Local) -> bool:
    if p.party in (DEBTOR, GUARANTOR):
        return p.purpose == LOCATE  # the debtor is never "located" through their own number
    return not (rule.locate_when_unreachable and p.purpose == LOCATE and not f.debtor_reachable)


def _plan_kept(rule: PlanKeptRule, p: Proposal, f: ContactFacts, local: _Local) -> bool:
    return f.plan_active and p.purpose in PURSUING


_BLOCKS: dict[type, Callable[[Any, Proposal, ContactFacts, _Local], bool]] = {
    WindowRule: _window,
    FrequencyRule: _frequency,
    ConversationCooloffRule: _conversation,
    ChannelCapsRule: _caps,
    OptOutRule: _opt_out,
    AutomatedConsentRule: _consent,
    HoldRule: _hold,
    WorkplaceRule: _workplace,
    VulnerabilityRule: _vulnerability,
    PlanKeptRule: _plan_kept,
    ValidationNoticeRule: _validation,
    ThirdPartyRule: _third_party,
}


def only_window(verdict: Verdict, policy: Policy) -> bool:
    """Blocked by nothing but the contact window: the contact can wait for the window to open."""
    return verdict.blocked_by == (policy.contact_window.id,)
