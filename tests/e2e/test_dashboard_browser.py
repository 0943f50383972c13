"""The ops inbox as a person uses it: `streamlit run dashboard/server.py` in a subprocess, Debian chromium via
Playwright. Screenshots go to the test results folder (OVERDUE_TEST_RESULTS, else var/test-results)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import col, select

from overdue.config.models import ROLES
from overdue.services.decisions import decide_task
from overdue.services.tasks import attach
from overdue.store.db import get_engine, session_scope
from overdue.store.tables import Account, AuditEvent, HumanTask, LegalCase, OutreachMessage
from tests.e2e.conftest import DashboardServer, browser_sign_in, wait_idle
from tests.support import make_runtime

LEAD_SCREENSHOT = Path("/tmp/dashboard.png")


def open_task(page: Page, task_id: int) -> None:
    page.locator(f".st-key-row-{task_id}").get_by_role("button", name="Open").click()
    expect(page.get_by_role("heading", name=f"Task {task_id} · Legal escalation approval")).to_be_visible()
    wait_idle(page)


@pytest.mark.browser
def test_second_approver_approves_and_the_demand_letter_is_queued(
    dashboard_server: DashboardServer, dashboard_page: Page, test_results: Path
) -> None:
    """A legal escalation on a large balance: bob approved first; alice opens it and approves as the second."""
    url = dashboard_server.db.url
    task_id, account_id = dashboard_server.db.task_ids[0], dashboard_server.db.account_ids[0]
    with session_scope(url) as session:
        task = session.get(HumanTask, task_id)
        assert task is not None
        task.payload = task.payload | {"approvals_needed": 2}
        session.add(task)
        session.flush()
        decide_task(
            session, task_id, task.version, "approve", "Criteria met, file complete", "bob", datetime.now(UTC), ROLES
        )
    get_engine(url).dispose()

    page = dashboard_page
    browser_sign_in(page, "alice")
    expect(page.get_by_role("heading", name="Ops inbox")).to_be_visible()
    page.screenshot(path=test_results / "inbox.png", full_page=True)
    open_task(page, task_id)
    expect(page.get_by_text("Approvals 1 of 2: bob")).to_be_visible()
    page.screenshot(path=test_results / "inbox-task.png", full_page=True)
    form = page.locator(f".st-key-task-panel-{task_id}").get_by_test_id("stForm")
    form.get_by_role("textbox", name="Reason").fill("Second approval: balance and contact history verified")
    form.get_by_role("button", name="Approve").click()

    expect(page.get_by_text(f"Task {task_id} approved by alice.")).to_be_visible()
    expect(page.get_by_text("its demand letter is queued")).to_be_visible()
    wait_idle(page)
    page.screenshot(path=test_results / "inbox-approved.png", full_page=True)
    shutil.copyfile(test_results / "inbox-approved.png", LEAD_SCREENSHOT)

    with session_scope(url) as session:
        decided = session.get(HumanTask, task_id)
        account = session.get(Account, account_id)
        assert decided is not None
        assert account is not None
        assert (decided.status, decided.decided_by, account.stage) == ("approved", "alice", "legal")
        case = session.exec(select(LegalCase).where(col(LegalCase.account_id) == account_id)).one()
        assert case.approved_by == "bob, alice"
        letter = session.get(OutreachMessage, case.demand_letter_id)
        assert letter is not None
        assert (letter.purpose, letter.status, letter.channel) == ("legal_notice", "queued", "letter")
    get_engine(url).dispose()


@pytest.mark.browser
def test_double_click_decides_once(dashboard_server: DashboardServer, dashboard_page: Page) -> None:
    task_id, account_id = dashboard_server.db.task_ids[1], dashboard_server.db.account_ids[1]
    browser_sign_in(dashboard_page, "carol")
    open_task(dashboard_page, task_id)
    form = dashboard_page.locator(f".st-key-task-panel-{task_id}").get_by_test_id("stForm")
    approve = form.get_by_role("button", name="Approve")
    expect(approve).to_be_enabled()
    form.get_by_role("textbox", name="Reason").fill("Promised payment never arrived")
    approve.dblclick()

    expect(dashboard_page.get_by_text(f"Task {task_id} approved by carol.")).to_be_visible()
    wait_idle(dashboard_page)
    expect(dashboard_page.get_by_test_id("stException")).to_have_count(0)
    for warning in dashboard_page.get_by_test_id("stAlertContentWarning").all_inner_texts():
        assert warning == f"Task {task_id} was already approved by carol; nothing changed."

    with session_scope(dashboard_server.db.url) as session:
        task = session.get(HumanTask, task_id)
        assert task is not None
        assert (task.status, task.decided_by, task.version) == ("approved", "carol", 1)
        cases = session.exec(select(LegalCase).where(col(LegalCase.account_id) == account_id)).all()
        assert len(cases) == 1
    get_engine(dashboard_server.db.url).dispose()


@pytest.mark.browser
def test_evidence_downloads_from_the_task_and_each_download_is_audited(
    dashboard_server: DashboardServer, dashboard_page: Page
) -> None:
    url, task_id = dashboard_server.db.url, dashboard_server.db.task_ids[2]
    with session_scope(url) as session:
        content = b"%PDF-1.4 bank statement: no income since March"
        vault = make_runtime(url).vault
        attach(session, vault, task_id, "statement.pdf", "application/pdf", content, "agent.ann", datetime.now(UTC))
    get_engine(url).dispose()

    page = dashboard_page
    browser_sign_in(page, "supervisor.sam")
    open_task(page, task_id)
    panel = page.locator(f".st-key-task-panel-{task_id}")
    panel.get_by_text("Evidence (1)").click()
    for _ in range(2):
        with page.expect_download() as download:
            panel.get_by_role("button", name="statement.pdf").click()
        assert download.value.suggested_filename.endswith("-statement.pdf")
        assert Path(download.value.path()).read_bytes() == content

    with session_scope(url) as session:
        opened = session.exec(select(AuditEvent).where(col(AuditEvent.kind) == "evidence.opened")).all()
        assert [event.actor for event in opened] == ["supervisor.sam", "supervisor.sam"]
    get_engine(url).dispose()
