"""The ops inbox run in-process by Streamlit's AppTest, against a real (SQLite) database, signed in as the
seeded users of tests/e2e/conftest.py (alice, bob, carol, dora: legal; supervisor.sam; agent.ann; ...)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import col, select
from streamlit.testing.v1 import AppTest

from overdue.domain.masking import Sensitive
from overdue.services import legal
from overdue.services.agent_calls import CallReport, log_call
from overdue.services.personal_data import PersonalField, sealed_columns
from overdue.services.tasks import sweep_sla
from overdue.store.db import session_scope
from overdue.store.tables import (
    Account,
    AuditEvent,
    Customer,
    DashboardSession,
    DashboardUser,
    Hold,
    HumanTask,
    LegalCase,
    OutreachMessage,
)
from tests.e2e.conftest import APP, Seeded, seed_escalations, sign_in_app
from tests.support import make_runtime, run_day

REASON = "No payment or contact for 95 days"
CARD = "4111111111111111"


def open_app(user: str = "alice") -> AppTest:
    app = AppTest.from_file(APP, default_timeout=30).run()
    sign_in_app(app, user)
    assert not app.exception, [e.value for e in app.exception]
    return app


def open_task(app: AppTest, task_id: int) -> None:
    app.button(key=f"open-{task_id}").click().run()
    assert not app.exception, [e.value for e in app.exception]


def click(app: AppTest, task_id: int, decision: str, reason: str) -> None:
    app.text_area(key=f"reason-{task_id}").input(reason)
    app.button(key=f"{decision}-{task_id}").click().run()
    assert not app.exception, [e.value for e in app.exception]


def page_text(app: AppTest) -> str:
    parts: list[str] = []
    for elements in (app.title, app.markdown, app.caption, app.info, app.success, app.warning, app.error):
        parts += [str(e.value) for e in elements]
    parts += [f"{m.label} {m.value}" for m in app.metric]
    parts += [t.value.to_string() for t in app.table]
    return "\n".join(parts)


def metric(app: AppTest, label: str) -> str:
    return str(next(m for m in app.metric if m.label == label).value)


def listed(app: AppTest) -> list[int]:
    return [int(b.key.removeprefix("open-")) for b in app.button if b.key and b.key.startswith("open-")]


def task(url: str, task_id: int) -> HumanTask:
    with session_scope(url) as session:
        found = session.get(HumanTask, task_id)
        assert found is not None
        return found


def legal_cases(url: str) -> list[LegalCase]:
    with session_scope(url) as session:
        return list(session.exec(select(LegalCase)))


def decisions_audited(url: str, actor: str) -> int:
    with session_scope(url) as session:
        query = sa.select(sa.func.count()).where(col(AuditEvent.actor) == actor, col(AuditEvent.kind) == "task.decided")
        return int(session.scalar(query) or 0)


def demand_letters(url: str) -> list[OutreachMessage]:
    with session_scope(url) as session:
        return list(session.exec(select(OutreachMessage).where(col(OutreachMessage.purpose) == "legal_notice")))


def test_team_queue_lists_the_most_urgent_first_masked(dashboard_db: Seeded) -> None:
    app = open_app()
    text = page_text(app)

    assert [t.value for t in app.title] == ["Ops inbox"]
    assert (metric(app, "Tasks"), metric(app, "Past SLA")) == ("3", "1")
    assert listed(app) == dashboard_db.task_ids  # the oldest is past its SLA, the others in SLA order
    assert r"account \*\*\*\*0000 · Test Person · \$1,075\.00 · unassigned" in text
    assert text.count("SLA breached") == 1
    assert "E2E0000" not in text
    assert "5550123" not in text


def test_a_role_sees_only_its_own_queue(dashboard_db: Seeded) -> None:
    agent = open_app("agent.ann")
    assert (metric(agent, "Tasks"), listed(agent)) == ("0", [])
    assert "Nothing waiting here." in page_text(agent)


def test_filters_by_sla(dashboard_db: Seeded) -> None:
    app = open_app()
    app.selectbox(key="inbox_sla").set_value("breached").run()
    assert listed(app) == dashboard_db.task_ids[:1]
    app.selectbox(key="inbox_sla").set_value("within").run()
    assert listed(app) == dashboard_db.task_ids[1:]


def test_opened_task_shows_account_case_file_and_form(dashboard_db: Seeded) -> None:
    app = open_app()
    task_id = dashboard_db.task_ids[0]

    open_task(app, task_id)

    text = page_text(app)
    assert f"Task {task_id} · Legal escalation approval" in [s.value for s in app.subheader]
    assert "stage **negotiation** · **95** days past due · balance **\\$1,075\\.00**" in text
    assert "**Rule:** long\\_delinquent" in text
    assert f"task-{task_id}" in [f.key for f in app.form]
    statement = app.table[0].value
    assert list(statement["Description"]) == ["balance placed for collection"]
    assert r"Phone \+1\*\*\*23 · Email E\*\*\*@example\.com" in text


def test_approve_opens_the_case_and_queues_the_demand_letter_at_once(dashboard_db: Seeded) -> None:
    app = open_app("alice")
    task_id, account_id = dashboard_db.task_ids[0], dashboard_db.account_ids[0]
    open_task(app, task_id)

    click(app, task_id, "approve", REASON)

    [case] = legal_cases(dashboard_db.url)
    assert [s.value for s in app.success] == [
        f"Task {task_id} approved by alice. Legal case {case.id} is open; its demand letter is queued."
    ]
    decided = task(dashboard_db.url, task_id)
    assert (decided.status, decided.decided_by, decided.reason, decided.version) == ("approved", "alice", REASON, 1)
    [letter] = demand_letters(dashboard_db.url)
    assert (case.account_id, case.demand_letter_id, letter.status, letter.channel) == (
        account_id,
        letter.id,
        "queued",
        "letter",
    )
    assert "Attorney demand letter" in letter.body
    assert metric(app, "Tasks") == "2"


def test_a_continuation_that_fails_to_start_is_picked_up_by_the_next_cycle(
    dashboard_db: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise ConnectionError("worker unreachable")

    app = open_app("alice")
    task_id = dashboard_db.task_ids[0]
    open_task(app, task_id)
    with monkeypatch.context() as patched:
        patched.setattr(legal, "proceed", broken)
        click(app, task_id, "approve", REASON)

    [case] = legal_cases(dashboard_db.url)
    assert app.success[0].value.endswith("the next daily cycle will queue it.")
    assert (task(dashboard_db.url, task_id).status, case.demand_letter_id, demand_letters(dashboard_db.url)) == (
        "approved",
        None,
        [],
    )
    runtime = make_runtime(dashboard_db.url)
    with session_scope(dashboard_db.url) as session:
        run_day(session, runtime, datetime.now(UTC).date())
    [letter] = demand_letters(dashboard_db.url)
    assert legal_cases(dashboard_db.url)[0].demand_letter_id == letter.id


def test_reject_returns_the_account_to_negotiation(dashboard_db: Seeded) -> None:
    app = open_app("alice")
    task_id = dashboard_db.task_ids[1]
    open_task(app, task_id)

    click(app, task_id, "reject", "Hardship call booked for Friday")

    assert app.success[0].value == (
        f"Task {task_id} rejected by alice. The account returns to negotiation with your reason."
    )
    assert task(dashboard_db.url, task_id).status == "rejected"
    assert legal_cases(dashboard_db.url) == []


def test_request_information_then_a_comment_puts_it_back(dashboard_db: Seeded) -> None:
    alice, bob = open_app("alice"), open_app("bob")
    task_id = dashboard_db.task_ids[0]
    open_task(alice, task_id)
    click(alice, task_id, "request_info", "Is the address current?")
    assert task(dashboard_db.url, task_id).status == "info_requested"

    open_task(bob, task_id)
    bob.text_area(key=f"comment-{task_id}").input("Address confirmed by phone today")
    bob.button(key=f"comment-btn-{task_id}").click().run()

    assert bob.success[0].value == f"Comment added to task {task_id}."
    assert task(dashboard_db.url, task_id).status == "open"
    history = bob.table[0].value
    assert list(history["What"]) == ["information requested", "comment", "information provided"]


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_decision_without_a_reason_writes_nothing(dashboard_db: Seeded, reason: str) -> None:
    app = open_app()
    task_id = dashboard_db.task_ids[0]
    open_task(app, task_id)

    click(app, task_id, "reject", reason)

    assert [e.value for e in app.error] == [f"Task {task_id}: a reason is required. Nothing was recorded."]
    assert task(dashboard_db.url, task_id).status == "open"


def test_requester_cannot_decide_own_task(dashboard_db: Seeded) -> None:
    app = open_app("system:cycle")
    task_id = dashboard_db.task_ids[0]
    open_task(app, task_id)

    click(app, task_id, "approve", REASON)

    assert [w.value for w in app.warning] == [
        f"Task {task_id} was requested by system\\:cycle; another person must decide it."  # markdown-escaped
    ]
    assert task(dashboard_db.url, task_id).status == "open"


def test_two_sessions_deciding_the_same_task_record_one_decision(dashboard_db: Seeded) -> None:
    alice, bob = open_app("alice"), open_app("bob")
    task_id = dashboard_db.task_ids[0]
    open_task(alice, task_id)
    open_task(bob, task_id)  # both forms were drawn with version 0

    click(alice, task_id, "approve", REASON)
    click(bob, task_id, "reject", "Customer called, disputes the debt")

    assert alice.success
    assert [w.value for w in bob.warning] == [f"Task {task_id} was already approved by alice; nothing changed."]
    decided = task(dashboard_db.url, task_id)
    assert (decided.status, decided.decided_by, decided.version) == ("approved", "alice", 1)
    assert len(legal_cases(dashboard_db.url)) == 1
    assert (decisions_audited(dashboard_db.url, "alice"), decisions_audited(dashboard_db.url, "bob")) == (1, 0)


def test_a_large_balance_needs_two_different_approvers(dashboard_db: Seeded) -> None:
    task_id = dashboard_db.task_ids[0]
    with session_scope(dashboard_db.url) as session:
        found = session.get(HumanTask, task_id)
        assert found is not None
        found.payload = found.payload | {"approvals_needed": 2}
        session.add(found)
    alice, bob = open_app("alice"), open_app("bob")
    open_task(alice, task_id)

    click(alice, task_id, "approve", REASON)
    assert alice.success[0].value == (
        f"Task {task_id}: approval 1 recorded by alice; a second, different person must approve."
    )
    assert "Approvals **1 of 2**: alice" in page_text(alice)
    click(alice, task_id, "approve", REASON)
    assert [w.value for w in alice.warning] == [
        f"You already approved task {task_id}; a second, different person must approve it."
    ]
    assert (task(dashboard_db.url, task_id).status, legal_cases(dashboard_db.url)) == ("open", [])

    open_task(bob, task_id)
    click(bob, task_id, "approve", "Second review: documents complete")
    assert bob.success[0].value.startswith(f"Task {task_id} approved by bob.")
    assert legal_cases(dashboard_db.url)[0].approved_by == "alice, bob"


def test_claim_keeps_others_from_deciding_and_a_supervisor_reassigns(dashboard_db: Seeded) -> None:
    alice, bob, sam = open_app("alice"), open_app("bob"), open_app("supervisor.sam")
    task_id = dashboard_db.task_ids[0]
    open_task(alice, task_id)
    alice.button(key=f"claim-{task_id}").click().run()
    assert alice.success[0].value == f"Task {task_id} is yours."

    open_task(bob, task_id)
    assert bob.button(key=f"approve-{task_id}").disabled
    assert bob.button(key=f"claim-{task_id}").disabled

    open_task(sam, task_id)
    sam.text_input(key=f"assignee-{task_id}").input("bob")
    sam.button(key=f"assign-{task_id}").click().run()
    assert sam.success[0].value == f"Task {task_id} assigned to bob."
    assert sam.button(key=f"approve-{task_id}").disabled  # a supervisor chases a legal task, never decides it

    bob.run()
    click(bob, task_id, "approve", REASON)
    assert task(dashboard_db.url, task_id).decided_by == "bob"


def test_pages_through_a_long_queue(app_database: str) -> None:
    seeded = seed_escalations(app_database, 23)
    app = open_app()
    assert listed(app) == seeded.task_ids[:20]

    app.pagination[0].set_value(2).run()

    assert listed(app) == seeded.task_ids[20:]
    assert metric(app, "Tasks") == "23"


def test_speaks_chinese_to_a_chinese_speaking_user(dashboard_db: Seeded) -> None:
    with session_scope(dashboard_db.url) as session:
        session.execute(sa.update(DashboardUser).where(col(DashboardUser.name) == "dora").values(locale="zh-CN"))
    app = open_app("dora")
    open_task(app, dashboard_db.task_ids[0])

    assert [t.value for t in app.title] == ["工作台"]
    assert f"任务 {dashboard_db.task_ids[0]} · 法律升级审批" in [s.value for s in app.subheader]
    assert "已超时" in page_text(app)


# --- personal data --------------------------------------------------------------------------------


def seal_numbers(seeded: Seeded) -> None:
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
    open_task(app, task_id)
    assert r"National ID \*\*\*\*3456 · Card \*\*\*\*1111" in page_text(app)
    assert CARD not in page_text(app)

    ask_to_reveal(app, task_id, PersonalField.CARD_NUMBER, "Customer disputes a charge on this card")

    assert [c.value for c in app.code] == [CARD]
    [event] = revealed_events(dashboard_db.url)
    assert (event.actor, event.account_id, event.data) == (
        "alice",
        account_id,
        {"field": "card_number", "reason": "Customer disputes a charge on this card"},
    )
    app.run()  # any next action hides the value again
    assert not app.code


def test_a_session_ended_since_the_page_was_drawn_decides_nothing(dashboard_db: Seeded) -> None:
    task_id = dashboard_db.task_ids[0]
    app = open_app("alice")
    open_task(app, task_id)
    with session_scope(dashboard_db.url) as session:
        session.execute(sa.update(DashboardSession).values(revoked_at=datetime.now(UTC)))

    click(app, task_id, "approve", REASON)

    assert [t.value for t in app.title] == ["Sign in"]
    assert task(dashboard_db.url, task_id).status == "open"
    assert legal_cases(dashboard_db.url) == []


def test_an_agent_logs_a_hardship_call_from_the_task(dashboard_db: Seeded) -> None:
    app = open_app("alice")
    task_id, account_id = dashboard_db.task_ids[0], dashboard_db.account_ids[0]
    open_task(app, task_id)

    app.selectbox(key=f"call-outcome-{task_id}").set_value("hardship")
    app.text_area(key=f"call-note-{task_id}").input("Lost his job last month")
    app.button(key=f"call-log-{task_id}").click().run()

    assert not app.exception, [e.value for e in app.exception]
    assert app.success[0].value.startswith(f"Call logged on task {task_id}'s account.")
    with session_scope(dashboard_db.url) as session:
        review = session.exec(select(HumanTask).where(col(HumanTask.kind) == "hardship_review")).one()
        assert (review.account_id, review.requested_by, review.payload["note"]) == (
            account_id,
            "alice",
            "Lost his job last month",
        )

    app.selectbox(key=f"call-outcome-{task_id}").set_value("promise_to_pay")
    app.button(key=f"call-log-{task_id}").click().run()
    assert app.error[0].value == f"Task {task_id}: the call was not logged: a promise to pay needs the promised date"


def test_a_breached_sla_shows_escalated_and_the_supervisor_takes_it(dashboard_db: Seeded) -> None:
    task_id = dashboard_db.task_ids[0]  # 6 hours past its SLA
    with session_scope(dashboard_db.url) as session:
        assert sweep_sla(session, make_runtime(dashboard_db.url).config.tasks, datetime.now(UTC)).escalated == 1
    sam = open_app("supervisor.sam")
    sam.selectbox(key="inbox_sla").set_value("breached").run()

    assert listed(sam) == [task_id]
    assert "escalated to a supervisor" in page_text(sam)
    open_task(sam, task_id)
    sam.button(key=f"claim-{task_id}").click().run()
    assert sam.success[0].value == f"Task {task_id} is yours."
    assert sam.button(key=f"approve-{task_id}").disabled  # chased by the supervisor, decided by legal
    assert task(dashboard_db.url, task_id).assignee == "supervisor.sam"


def test_waiting_for_information_pauses_the_sla_until_someone_says_it_arrived(dashboard_db: Seeded) -> None:
    task_id = dashboard_db.task_ids[0]  # 6 hours past its SLA
    alice, bob = open_app("alice"), open_app("bob")
    open_task(alice, task_id)
    click(alice, task_id, "request_info", "Is the address current?")
    asked = task(dashboard_db.url, task_id)

    bob.run()
    assert metric(bob, "Past SLA") == "0"
    assert "SLA paused" in page_text(bob)
    open_task(bob, task_id)
    bob.button(key=f"info-received-{task_id}").click().run()

    assert not bob.exception, [e.value for e in bob.exception]
    assert bob.success[0].value == f"Task {task_id} is back in the queue; its SLA moved on by the time it waited."
    reopened = task(dashboard_db.url, task_id)
    assert asked.due_at is not None
    assert reopened.due_at is not None
    assert asked.decided_at is not None
    assert reopened.status == "open"
    assert reopened.due_at - asked.due_at > datetime.now(UTC) - asked.decided_at - timedelta(seconds=30)
    assert f"info-received-{task_id}" not in [b.key for b in bob.button]


def test_rejecting_a_hardship_review_says_collection_resumes(dashboard_db: Seeded) -> None:
    account_id = dashboard_db.account_ids[1]
    now = datetime.now(UTC)
    with session_scope(dashboard_db.url) as session:
        report = CallReport(account_id, now, "hardship", "Reduced hours at work")
        review = log_call(session, make_runtime(dashboard_db.url), report, "agent.ann", now).review
        assert review is not None
        review_id: int = review.id  # type: ignore[assignment]
    sam = open_app("supervisor.sam")
    open_task(sam, review_id)

    click(sam, review_id, "reject", "Income still covers the minimum payment")

    escaped = "supervisor\\.sam"  # markdown-escaped
    assert sam.success[0].value == (
        f"Task {review_id} rejected by {escaped}. The hardship hold is lifted; collection resumes today."
    )
    with session_scope(dashboard_db.url) as session:
        hold = session.exec(select(Hold).where(col(Hold.account_id) == account_id)).one()
        assert hold.ends_on is not None


def test_a_download_is_refused_once_its_session_has_ended(dashboard_db: Seeded) -> None:
    """The download button's callable runs at the click, outside the page run: it checks the session itself."""
    from dashboard.views.inbox_evidence import DownloadRefused, opener
    from overdue.services import sessions
    from overdue.services.tasks import attach

    url, now = dashboard_db.url, datetime.now(UTC)
    with session_scope(url) as session:
        vault = make_runtime(url).vault
        evidence = attach(session, vault, dashboard_db.task_ids[0], "r.txt", "text/plain", b"receipt", "agent.ann", now)
        user = session.exec(select(DashboardUser).where(col(DashboardUser.name) == "agent.ann")).one()
        person = sessions.resolve(session, sessions.open_session(session, user, now, 1), now)
    assert person is not None
    download = opener(url, evidence.id, person)  # type: ignore[arg-type]
    assert download() == b"receipt"
    with session_scope(url) as session:
        sessions.close_session(session, person, now)
    with pytest.raises(DownloadRefused):
        download()
    with session_scope(url) as session:
        opened = session.scalars(sa.select(col(AuditEvent.actor)).where(col(AuditEvent.kind) == "evidence.opened"))
        assert list(opened) == ["agent.ann"]


def test_the_services_refusals_speak_chinese_too(dashboard_db: Seeded) -> None:
    with session_scope(dashboard_db.url) as session:
        session.execute(sa.update(DashboardUser).where(col(DashboardUser.name) == "dora").values(locale="zh-CN"))
    seal_numbers(dashboard_db)
    task_id = dashboard_db.task_ids[0]
    app = open_app("dora")
    open_task(app, task_id)

    app.selectbox(key=f"call-outcome-{task_id}").set_value("promise_to_pay")
    app.button(key=f"call-log-{task_id}").click().run()
    assert app.error[0].value == f"任务 {task_id}：通话未记录：承诺还款须填写承诺日期"
    app.text_input(key=f"call-amount-{task_id}").input("12,3x")
    app.button(key=f"call-log-{task_id}").click().run()
    assert app.error[0].value == f"任务 {task_id}：通话未记录：12,3x 不是以该账户币种表示的有效金额"
    ask_to_reveal(app, task_id, PersonalField.CARD_NUMBER, "why")
    assert app.error[0].value == f"任务 {task_id}：查看个人信息须填写至少 5 个字符的原因。未显示任何信息。"
    app.button(key=f"comment-btn-{task_id}").click().run()
    assert app.warning[0].value == "备注不能为空"
