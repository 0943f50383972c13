"""The offer-approvals page run in-process by Streamlit's AppTest: two different people approve a settlement
above the second threshold, the maker cannot, and the terms are on screen."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlmodel import select
from streamlit.testing.v1 import AppTest

from overdue.domain.offers import Request
from overdue.services.offers import make_offer
from overdue.store.db import session_scope
from overdue.store.tables import HumanTask, Offer
from tests.support import add_account, make_runtime

SCRIPT = """
from dashboard.identity import identity_sidebar
from dashboard.views import offer_approvals

identity_sidebar()
offer_approvals.render()
"""


def seed_settlement(url: str) -> tuple[int, int]:
    """A settlement at a 45% discount: above the second threshold, so two different people must approve it."""
    with session_scope(url) as session:
        account = add_account(session, "OFFER1", due_date=date(2026, 1, 1))
        assert account.id is not None
        request = Request("settlement", discount_pct=Decimal(45))
        offer = make_offer(session, make_runtime(url).config, account.id, request, "agent.li", datetime.now(UTC))
        task = session.exec(select(HumanTask)).one()
        assert task.id is not None
        assert offer.id is not None
        return task.id, offer.id


def as_user(user: str) -> AppTest:
    app = AppTest.from_string(SCRIPT, default_timeout=30).run()
    app.sidebar.text_input(key="user_id").input(user).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def decide(app: AppTest, task_id: int, decision: str, reason: str) -> str:
    app.text_area(key=f"offer-reason-{task_id}").input(reason)
    app.button(key=f"offer-{decision}-{task_id}").click().run()
    assert not app.exception, [e.value for e in app.exception]
    return "\n".join(str(e.value) for e in [*app.success, *app.warning])


def test_two_different_people_approve_and_the_maker_cannot(app_database: str) -> None:
    task_id, offer_id = seed_settlement(app_database)
    maker = as_user("agent.li")
    terms = "\n".join(t.value.to_string() for t in maker.table)
    assert "discount 45% is above the 30% allowed" in terms
    assert "$591.25" in terms  # total payable: $1,075.00 less 45%, the discount rounded down
    assert "another person must decide" in decide(maker, task_id, "approve", "mine")

    first = as_user("lead.wu")
    assert "approval 1 recorded; a second, different person must approve it" in decide(
        first, task_id, "approve", "hardship evidence seen"
    )
    assert "lead.wu already approved" in decide(as_user("lead.wu"), task_id, "approve", "again")
    assert "approved by head.zhao" in decide(as_user("head.zhao"), task_id, "approve", "agreed")
    with session_scope(app_database) as session:
        offer = session.get(Offer, offer_id)
        assert offer is not None
        assert (offer.status, offer.approved_by) == ("open", "lead.wu, head.zhao")
    assert "No offer is waiting for approval" in "\n".join(str(e.value) for e in as_user("x").success)
