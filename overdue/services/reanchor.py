"""Re-anchor an account's cadence after a partial payment, so that no step of its new stage is skipped.

The rule: a partial payment that leaves the account in a different stage (it fell below a stage's balance
threshold, say) moves it there at once and restarts that stage's cadence on the payment date: the steps are
counted from that date (`account.anchor_on`), the step of day 0 comes first and each later one on its day.
Without it an account dropping back from negotiation to reminder would count the reminder steps from its
old due date, all long past, and get none of them (Kill Bill's "state skipped after a partial payment").
A partial payment that leaves the stage unchanged changes nothing: the cadence carries on and no step comes
twice. Facts decide the stage (closed, legal, plan) as before; a paused account is left alone.

The daily cycle applies the same rule to any move to a less severe stage (`overdue.domain.stages.moved_back`:
a hold lifted takes an account from a flag's stage back to reminder), re-anchoring on the day of the move.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session, col

from overdue.config import Configuration
from overdue.config.models import FACT_STAGES
from overdue.domain import stages
from overdue.domain.pauses import effective_dpd
from overdue.domain.stages import AccountFacts, classify, days_past_due
from overdue.services.audit import record, record_many, stage_changed
from overdue.services.condition_facts import load_flags, load_pauses
from overdue.services.decisions import withdraw_open_escalations
from overdue.services.outreach import cancel_queued
from overdue.store.tables import Account, Hold

PARTIAL_PAYMENT = "partial payment"


def reanchor_after_payment(
    session: Session, config: Configuration, account: Account, paid_on: date, actor: str, now: datetime
) -> str | None:
    """Call after a payment is applied to `account`. Returns the stage it moved to, or None."""
    if account.balance_minor <= 0 or account.stage in FACT_STAGES or account.id is None:
        return None
    pauses = load_pauses(session, col(Hold.account_id) == account.id).get(account.id, [])
    if any(pause.covers(paid_on) for pause in pauses):
        return None
    strategy = config.strategy_for(account.strategy_arm)
    flags = load_flags(session, strategy.flags_used, paid_on, (account.id, account.id)).get(account.id, frozenset())
    dpd = effective_dpd(days_past_due(account.due_date, paid_on), account.due_date, pauses, paid_on)
    facts = AccountFacts(account.stage, dpd, account.balance_minor, account.currency, account.broken_plans, flags=flags)
    new_stage = classify(facts, strategy)
    if new_stage == account.stage:
        return None
    previous = account.stage
    account.stage, account.stage_entered_on = new_stage, paid_on
    account.anchor_on = account.next_action_on = paid_on
    session.add(account)
    record_many(session, stage_changed(actor, now, account.id, previous, new_stage, dpd=dpd, reason=PARTIAL_PAYMENT))
    record(session, "cadence.reanchored", actor, now, account.id, stage=new_stage, anchor_on=paid_on.isoformat())
    cancel_queued(session, account.id, f"{PARTIAL_PAYMENT}: now {new_stage}", actor, now, purposes=("collection",))
    if previous == stages.NEGOTIATION:
        withdraw_open_escalations(session, account.id, PARTIAL_PAYMENT, actor, now)
    return new_stage
