"""The pending-approvals page run in-process by Streamlit's AppTest, against a real (SQLite) database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlmodel import col, select
from streamlit.testing.v1 import AppTest

from overdue.domain.masking import Sensitive
from overdue.services.personal_data import PersonalField, sealed_columns
from overdue.store.db import session_scope
from overdue.store.tables import (
    Account,
    AuditEvent,
    Customer,
    DashboardSession,
    DashboardUser,
    HumanTask,
    LegalCase,
)
from tests.e2e.conftest import APP, Seeded, seed_escalations, sign_in_app
from tests.support import make_runtime

REASON = "No payment or contact for 95 days"
CARD = "4111111111111111"


def open_app(user: str = "legal.lee") -> AppTest:
    """The app signed in as `user` (a seeded legal approver by default), on the pending approvals page."""
    app = AppTest.from_file(APP, default_timeout=30).run()
    sign_in_app(app, user)
    assert not app.exception, [e.value for e in app.exception]
    return app


def user_id(url: str, name: str) -> int:
    with session_scope(url) as session:
        return int(session.exec(select(DashboardUser.id).where(col(DashboardUser.name) == name)).one() or 0)


def end_session_elsewhere(url: str, user: str) -> None:
    """The person signs out in another tab (or an admin disables them) after this page was drawn."""
    with session_scope(url) as session:
        session.execute(
            sa.update(DashboardSession)
            .where(
                col(DashboardSession.user_id)
                == select(DashboardUser.id).where(col(DashboardUser.name) == user).scalar_subquery()
            )
            .values(revoked_at=datetime.now(UTC))
        )


def page_text(app: AppTest) -> str:
    """Everything a person can read on the page, tables included."""
    parts: list[str] = []
    for elements in (app.title, app.markdown, app.caption, app.info, app.success, app.warning, app.error):
        parts += [str(e.value) for e in elements]
    parts += [f"{m.label} {m.value}" for m in app.metric]
    parts += [t.value.to_string() for t in app.table]
    return "\n".join(parts)


def click(app: AppTest, task_id: int, decision: str, reason: str) -> None:
    app.text_area(key=f"reason-{task_id}").input(reason)
    app.button(key=f"{decision}-{task_id}").click().run()
    assert not app.exception, [e.value for e in app.exception]


def task(url: str, task_id: int) -> HumanTask:
    with session_scope(url) as session:
        found = session.get(HumanTask, task_id)
        assert found is not None
        return found


def decisions_audited(url: str, actor: str) -> int:
    with session_scope(url) as session:
        query = sa.select(sa.func.count()).where(col(AuditEvent.actor) == actor, col(AuditEvent.kind) == "task.decided")
        return int(session.scalar(query) or 0)


def legal_cases(url: str) -> int:
    with session_scope(url) as session:
        return len(session.exec(select(LegalCase)).all())


def test_lists_open_tasks_oldest_first_masked(dashboard_db: Seeded) -> None:
    app = open_app()
    text = page_text(app)

    assert next(m for m in app.metric if m.label == "Open escalations").value == "3"
    assert next(m for m in app.metric if m.label == "Past SLA").value == "1"
    assert [f.key for f in app.form] == [f"task-{i}" for i in dashboard_db.task_ids]
    first = next(m.value for m in app.markdown if m.value.startswith(f"**Task {dashboard_db.task_ids[0]}**"))
    assert r"\*\*\*\*0000" in first
    assert "Test Person" in first
    assert "US" in first
    assert (
        "Stage **negotiation** · **95** days past due · balance **\\$1,075\\.00** · rule **long\\_delinquent**" in text
    )
    assert text.count("overdue SLA") == 1
    assert "A-E2E0000" not in text
    assert "E2E0000" not in text
    assert "5550123" not in text
    assert r"Phone \+1\*\*\*23 · Email E\*\*\*@example\.com" in first_details(app, dashboard_db.task_ids[0])


def test_approve_opens_legal_case(dashboard_db: Seeded) -> None:
    app = open_app("alice")
    task_id, account_id = dashboard_db.task_ids[0], dashboard_db.account_ids[0]

    click(app, task_id, "approve", REASON)

    assert [s.value for s in app.success] == [
        f"Task {task_id} approved by alice. A legal case is open and queued messages are cancelled."
    ]
    decided = task(dashboard_db.url, task_id)
    assert (decided.status, decided.decided_by, decided.reason, decided.version) == ("approved", "alice", REASON, 1)
    with session_scope(dashboard_db.url) as session:
        account = session.get(Account, account_id)
        assert account is not None
        assert account.stage == "legal"
        case = session.exec(select(LegalCase).where(col(LegalCase.task_id) == task_id)).one()
        assert case.approved_by == "alice"
    assert f"task-{task_id}" not in [f.key for f in app.form]
    assert [m.value for m in app.metric if m.label == "Open escalations"] == ["2"]
    recent = app.table[0].value
    assert recent.iloc[0]["Task"] == task_id
    assert recent.iloc[0]["Decision"] == "approved"
    assert recent.iloc[0]["Decided by"] == "alice"
    assert recent.iloc[0]["Reason"] == REASON


def test_reject_keeps_account_out_of_legal(dashboard_db: Seeded) -> None:
    app = open_app("alice")
    task_id = dashboard_db.task_ids[1]

    click(app, task_id, "reject", "Hardship call booked for Friday")

    assert app.success[0].value == f"Task {task_id} rejected by alice."
    assert task(dashboard_db.url, task_id).status == "rejected"
    assert legal_cases(dashboard_db.url) == 0


@pytest.mark.parametrize("reason", ["", "   "])
def test_reject_without_reason_writes_nothing(dashboard_db: Seeded, reason: str) -> None:
    app = open_app("alice")
    task_id = dashboard_db.task_ids[0]

    click(app, task_id, "reject", reason)

    assert [e.value for e in app.error] == [f"Task {task_id}: a reason is required to reject. Nothing was recorded."]
    assert task(dashboard_db.url, task_id).status == "open"
    assert f"task-{task_id}" in [f.key for f in app.form]
    with session_scope(dashboard_db.url) as session:
        assert session.scalar(sa.select(sa.func.count()).where(col(AuditEvent.account_id).is_not(None))) == 0


def test_a_session_ended_since_the_page_was_drawn_decides_nothing(dashboard_db: Seeded) -> None:
    task_id = dashboard_db.task_ids[0]
    app = open_app("alice")

    end_session_elsewhere(dashboard_db.url, "alice")
    click(app, task_id, "approve", REASON)

    assert [t.value for t in app.title] == ["Sign in"]
    assert task(dashboard_db.url, task_id).status == "open"
    assert legal_cases(dashboard_db.url) == 0


def test_requester_cannot_decide_own_task(dashboard_db: Seeded) -> None:
    app = open_app("system:cycle")
    task_id = dashboard_db.task_ids[0]

    click(app, task_id, "approve", REASON)

    assert "another person must decide it" in app.warning[0].value
    assert task(dashboard_db.url, task_id).status == "open"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("approved", "Task {id} was already approved by bob; nothing changed"),
        ("open", "Task {id} changed while you were looking at it; reload and decide again"),
    ],
)
def test_change_after_render_is_reported_not_overwritten(dashboard_db: Seeded, status: str, expected: str) -> None:
    """The page rendered version 0; a colleague decides (or changes) the task before the click lands."""
    app = open_app("alice")
    task_id, account_id = dashboard_db.task_ids[0], dashboard_db.account_ids[0]
    with session_scope(dashboard_db.url) as session:
        session.execute(
            sa.update(HumanTask)
            .where(col(HumanTask.id) == task_id)
            .values(
                status=status,
                decided_by="bob" if status != "open" else None,
                decided_at=datetime.now(UTC) if status != "open" else None,
                version=1,
            )
        )

    click(app, task_id, "approve", REASON)

    assert [w.value for w in app.warning] == [expected.format(id=task_id)]
    assert not app.success
    after = task(dashboard_db.url, task_id)
    assert (after.status, after.decided_by, after.version) == (status, "bob" if status != "open" else None, 1)
    with session_scope(dashboard_db.url) as session:
        account = session.get(Account, account_id)
        assert account is not None
        assert account.stage == "negotiation"
    assert legal_cases(dashboard_db.url) == 0
    assert decisions_audited(dashboard_db.url, "alice") == 0


def test_two_people_deciding_the_same_task_record_one_decision(dashboard_db: Seeded) -> None:
    alice, bob = open_app("alice"), open_app("bob")
    task_id = dashboard_db.task_ids[0]

    click(alice, task_id, "approve", REASON)
    click(bob, task_id, "reject", "Customer called, disputes the debt")

    assert alice.success
    assert not alice.warning
    assert [w.value for w in bob.warning] == [f"Task {task_id} was already approved by alice; nothing changed"]
    decided = task(dashboard_db.url, task_id)
    assert (decided.status, decided.decided_by, decided.version) == ("approved", "alice", 1)
    assert legal_cases(dashboard_db.url) == 1
    assert (decisions_audited(dashboard_db.url, "alice"), decisions_audited(dashboard_db.url, "bob")) == (1, 0)


def test_pages_through_a_long_queue(app_database: str) -> None:
    seeded = seed_escalations(app_database, 23)
    app = open_app()
    assert [f.key for f in app.form] == [f"task-{i}" for i in seeded.task_ids[:20]]

    app.pagination[0].set_value(2).run()

    assert [f.key for f in app.form] == [f"task-{i}" for i in seeded.task_ids[20:]]
    assert [m.value for m in app.metric if m.label == "Open escalations"] == ["23"]


# --- personal data --------------------------------------------------------------------------------


def first_details(app: AppTest, task_id: int) -> str:
    """The task's personal-data line: the markdown after its heading that starts with `Phone`."""
    form = next(f for f in app.form if f.key == f"task-{task_id}")
    return next(m.value for m in form.markdown if m.value.startswith("Phone"))


def seal_numbers(seeded: Seeded) -> None:
    """The oldest task's customer gets an ID number and its account a card, sealed as an import seals them."""
    vault = make_runtime(seeded.url).vault
    with session_scope(seeded.url) as session:
        account = session.get(Account, seeded.account_ids[0])
        assert account is not None
        session.execute(
            sa.update(Account)
            .where(col(Account.id) == account.id)
            .values(sealed_columns(vault, PersonalField.CARD_NUMBER, Sensitive(CARD)))
        )
        session.execute(
            sa.update(Customer)
            .where(col(Customer.id) == account.customer_id)
            .values(sealed_columns(vault, PersonalField.NATIONAL_ID, Sensitive("900123456")))
        )


def ask_to_reveal(app: AppTest, task_id: int, field: PersonalField, reason: str) -> None:
    app.selectbox(key=f"reveal-field-{task_id}").set_value(field)
    app.text_input(key=f"reveal-reason-{task_id}").input(reason)
    app.button(key=f"reveal-{task_id}").click().run()
    assert not app.exception, [e.value for e in app.exception]


def revealed_events(url: str) -> list[AuditEvent]:
    with session_scope(url) as session:
        return list(session.exec(select(AuditEvent).where(col(AuditEvent.kind) == "pii.revealed")))


def test_numbers_show_masked_and_reveal_only_with_a_recorded_reason(dashboard_db: Seeded) -> None:
    seal_numbers(dashboard_db)
    task_id, account_id = dashboard_db.task_ids[0], dashboard_db.account_ids[0]
    app = open_app("alice")
    assert r"National ID \*\*\*\*3456 · Card number \*\*\*\*1111" in first_details(app, task_id)
    assert CARD not in page_text(app)
    assert not app.code

    ask_to_reveal(app, task_id, PersonalField.CARD_NUMBER, "Customer disputes a charge on this card")

    assert [c.value for c in app.code] == [CARD]
    [event] = revealed_events(dashboard_db.url)
    assert (event.actor, event.account_id, event.data) == (
        "alice",
        account_id,
        {"field": "card_number", "reason": "Customer disputes a charge on this card"},
    )
    assert app.text_input(key=f"reveal-reason-{task_id}").value == "", "the next reveal needs its own reason"

    app.run()  # any next action hides the value again
    assert not app.code


@pytest.mark.parametrize("reason", ["", "  ok  "])
def test_a_reveal_without_a_reason_is_refused_and_records_nothing(dashboard_db: Seeded, reason: str) -> None:
    seal_numbers(dashboard_db)
    task_id = dashboard_db.task_ids[0]
    app = open_app("alice")

    ask_to_reveal(app, task_id, PersonalField.NATIONAL_ID, reason)

    assert [e.value for e in app.error] == [
        f"Task {task_id}: a reason of at least 5 characters is required to reveal personal data. Nothing was revealed."
    ]
    assert not app.code
    assert revealed_events(dashboard_db.url) == []


def test_a_session_ended_since_the_page_was_drawn_reveals_nothing(dashboard_db: Seeded) -> None:
    task_id = dashboard_db.task_ids[0]
    app = open_app("alice")

    end_session_elsewhere(dashboard_db.url, "alice")
    ask_to_reveal(app, task_id, PersonalField.PHONE, "Calling back as agreed")

    assert [t.value for t in app.title] == ["Sign in"]
    assert not app.code
    assert revealed_events(dashboard_db.url) == []
