"""Flags in stage conditions, loaded per shard through the cycle: a hold's kind and a vulnerable customer."""

from __future__ import annotations

from datetime import date

import yaml
from sqlmodel import Session

from overdue.config.models import StageRule
from overdue.runtime import Runtime
from overdue.services.holds import place_hold
from overdue.store.tables import Customer
from tests.support import add_account, midnight, run_day, with_champion


def test_accounts_go_to_the_stage_their_flags_and_figures_select(session: Session, runtime: Runtime) -> None:
    stages = tuple(
        StageRule.model_validate(item)
        for item in yaml.safe_load(
            """
            - {name: forbearance, when: {flags: [hardship], not_flags: [dispute]}}
            - {name: care, when: {flags: [vulnerable], dpd_min: 1}}
            """
        )
    )
    runtime = with_champion(runtime, stages=stages + runtime.config.strategy.stages)
    due = date(2026, 2, 1)
    hardship, disputed, vulnerable, plain = (add_account(session, ref, due_date=due) for ref in "hdvp")
    day = date(2026, 3, 10)
    for account in (hardship, disputed):
        place_hold(session, account.id, "hardship", "Lost job", "ops.bo", day, midnight(day))  # type: ignore[arg-type]
    place_hold(session, disputed.id, "dispute", "Not mine", "ops.bo", day, midnight(day))  # type: ignore[arg-type]
    customer = session.get(Customer, vulnerable.customer_id)
    assert customer is not None
    customer.vulnerability = ["health"]
    session.add(customer)
    session.flush()
    run_day(session, runtime, day)
    for account in (hardship, disputed, vulnerable, plain):
        session.refresh(account)
    assert [a.stage for a in (hardship, disputed, vulnerable, plain)] == [
        "forbearance",
        "negotiation",  # hardship, but disputed: not_flags excludes it
        "care",
        "negotiation",
    ]
